using System.Diagnostics;

namespace Meanwhile.Cli.Tests;

/// <summary><c>meanwhile serve</c> answers a real browser: headless Chromium loads the sample site and runs its script.</summary>
public sealed class ServeChromiumTests
{
    [ChromiumFact]
    public async Task Serve_answers_headless_Chromium_which_loads_the_page_its_stylesheet_and_its_script()
    {
        var chromium = FindOnPath("chromium")!;
        using var serve = ToolProcess.Start("serve", "--port", "0", "--loops", "1");
        var url = serve.WaitListening();
        var profile = Directory.CreateTempSubdirectory("meanwhile-chromium-");
        try
        {
            var psi = new ProcessStartInfo(chromium)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                $"--user-data-dir={profile.FullName}",
                "--virtual-time-budget=10000", // run the page until it is idle, then dump it: no wall-clock wait
                "--dump-dom", new Uri(url, "/").ToString(),
            }) psi.ArgumentList.Add(argument);
            using var process = Process.Start(psi)!;
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
            var dom = await process.StandardOutput.ReadToEndAsync(deadline.Token);
            await process.WaitForExitAsync(deadline.Token);
            Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}: {await stderr}");
            Assert.Contains("Served by Meanwhile", dom);
            Assert.Contains("<p id=\"loaded\">Loaded at", dom); // app.js was fetched and ran
        }
        finally
        {
            profile.Delete(recursive: true);
        }
        serve.Terminate();
        Assert.Equal(0, serve.WaitForExit());
        Assert.Contains("\"GET /style.css HTTP/1.1\" 200 ", serve.Stdout);
        Assert.Contains("\"GET /app.js HTTP/1.1\" 200 ", serve.Stdout);
    }

    internal static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}

/// <summary>A fact that needs Debian's chromium package; skipped with the reason when it is not installed.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (ServeChromiumTests.FindOnPath("chromium") is null)
            Skip = "chromium is not installed (Debian's chromium package; .ci/run installs it)";
    }
}
