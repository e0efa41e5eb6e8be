using System.Diagnostics;
using System.Text;

namespace Meanwhile.Testing;

/// <summary>Runs an external program (curl, wrk, python3, node, chromium) to its end, with a deadline.</summary>
public static class Tool
{
    /// <summary>Whether <paramref name="name"/> is on the PATH (or in /usr/sbin, /sbin).</summary>
    public static bool Exists(string name) =>
        (Environment.GetEnvironmentVariable("PATH") + ":/usr/sbin:/sbin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, name)));

    /// <summary>Runs <paramref name="file"/>; its standard output as text.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, string? stdin = null, int timeoutSeconds = 60)
    {
        var (code, stdout, stderr) = RunBytes(file, args, stdin, timeoutSeconds);
        return (code, Encoding.UTF8.GetString(stdout), stderr);
    }

    /// <summary>Runs <paramref name="file"/>; its standard output as bytes (bodies compared byte for byte).</summary>
    public static (int ExitCode, byte[] Stdout, string Stderr) RunBytes(string file, IEnumerable<string> args, string? stdin = null, int timeoutSeconds = 60)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within {timeoutSeconds} s");
        }
        copy.Wait();
        return (process.ExitCode, stdout.ToArray(), stderr.Result);
    }
}
