using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Meanwhile.Tests;

/// <summary>
/// A program not written here (python3, socat) that a test talks to: started by the test, its output collected
/// line by line, and killed (with its children) when the test disposes it.
/// </summary>
internal sealed class PeerProcess : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = new();
    private readonly ConcurrentQueue<string> _transcript = new();
    private int _openStreams = 2;

    private PeerProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data, "out");
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data, "err");
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Starts <paramref name="program"/>; both stdout and stderr lines are collected.</summary>
    public static PeerProcess Start(string program, params string[] arguments)
    {
        if (!IsInstalled(program))
            throw new InvalidOperationException($"{program} is not installed; the real-peer tests need it (apt-get install -y {program}).");
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return new PeerProcess(Process.Start(info)!);
    }

    /// <summary>Runs a python3 program given as text.</summary>
    public static PeerProcess Python(string script, params string[] arguments) => Start("python3", ["-u", "-c", script, .. arguments]);

    public static bool IsInstalled(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, program)));

    /// <summary>Everything the peer printed so far, for failure messages.</summary>
    public string Transcript => string.Join("\n", _transcript);

    private void OnLine(string? line, string stream)
    {
        if (line is null)
        {
            if (Interlocked.Decrement(ref _openStreams) == 0) _lines.CompleteAdding();
            return;
        }
        _transcript.Enqueue($"[{stream}] {line}");
        _lines.Add(line);
    }

    /// <summary>Blocks until the peer prints a line matching <paramref name="pattern"/>; returns the match.</summary>
    public Match WaitFor(string pattern, TimeSpan timeout)
    {
        var regex = new Regex(pattern);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !_lines.TryTake(out var line, left))
                throw new TimeoutException($"The peer did not print /{pattern}/ within {timeout} (exited: {_process.HasExited}):\n{Transcript}");
            var match = regex.Match(line);
            if (match.Success) return match;
        }
    }

    /// <summary>Closes the peer's stdin (its signal to finish, for the scripts here).</summary>
    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Blocks until the peer exits; returns its exit code.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
            throw new TimeoutException($"The peer did not exit within {timeout}:\n{Transcript}");
        _process.WaitForExit(); // lets the output readers finish
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        catch (InvalidOperationException) { /* never started or already reaped */ }
        _process.Dispose();
    }
}
