using System.Diagnostics;
using System.Text;

namespace Meanwhile.Tests;

/// <summary>Meanwhile's STDIN and STDOUT in a real child process (tests/Meanwhile.StdioProbe), wired to pipes and to files.</summary>
public sealed class StandardStreamTests : IDisposable
{
    private static readonly string Probe = Path.Combine(AppContext.BaseDirectory, "meanwhile-stdio-probe.dll");
    private static readonly bool Epoll = !TestReactor.IsPortable;
    private readonly string _dir = Directory.CreateTempSubdirectory("meanwhile-stdio-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(string Stdout, string Stderr, int ExitCode)> RunAsync(string file, string[] args, string input)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(psi)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        await process.StandardInput.WriteAsync(input.AsMemory(), deadline.Token);
        process.StandardInput.Close();
        await process.WaitForExitAsync(deadline.Token);
        return (await stdout, await stderr, process.ExitCode);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    [Fact]
    public async Task Stdin_and_stdout_wired_to_pipes_copy_a_megabyte_upper_cased()
    {
        var input = "hello, probe\n" + string.Concat(Enumerable.Repeat("abcdefghijklmnopqrstuvwxyz0123456789\n", 30_000));
        var (stdout, stderr, exit) = await RunAsync("dotnet", [Probe, "upper"], input);
        Assert.True(exit == 0, stderr);
        Assert.Equal(input.ToUpperInvariant(), stdout);
        Assert.Contains(Epoll ? "stdin (pipe); stdout (pipe)" : "stdin (console stream)", stderr);
    }

    [Fact]
    public async Task Stdin_and_stdout_wired_to_regular_files_work_through_workers()
    {
        var input = Path.Combine(_dir, "in.txt");
        var output = Path.Combine(_dir, "out.txt");
        File.WriteAllText(input, "from a file\nline two\n");
        var (_, stderr, exit) = await RunAsync("sh", ["-c", $"dotnet {Quote(Probe)} upper < {Quote(input)} > {Quote(output)}"], "");
        Assert.True(exit == 0, stderr);
        Assert.Equal("FROM A FILE\nLINE TWO\n", File.ReadAllText(output));
        if (Epoll) Assert.Contains("stdin (file); stdout (file)", stderr);
    }

    [Theory]
    [InlineData("upper")]            // restored when the streams are disposed
    [InlineData("upper-no-dispose")] // restored at process exit
    public async Task O_NONBLOCK_on_inherited_pipes_is_put_back_as_it_was(string mode)
    {
        // Both probes share the pipes' open file descriptions (sh passes them on), so the second sees what the first left.
        var (stdout, stderr, exit) = await RunAsync("sh", ["-c", $"dotnet {Quote(Probe)} {mode} && dotnet {Quote(Probe)} flags"], "abc\n");
        Assert.True(exit == 0, stderr);
        Assert.Equal("ABC\nstdin-nonblock=False stdout-nonblock=False\n", stdout);
        // While the streams were open the pipes really were non-blocking (on epoll), so the restore is what made them blocking again.
        Assert.Contains($"stdin-nonblock-while-open={Epoll}", stderr);
    }
}
