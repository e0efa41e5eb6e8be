using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Meanwhile.Testing;

/// <summary>
/// A program not written here (python3, socat, nginx, node) that a test talks to: started by the test, its output collected
/// line by line, and killed (with its children) when the test disposes it.
/// </summary>
public sealed class PeerProcess : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = new();
    private readonly ConcurrentQueue<string> _transcript = new();
    private readonly List<string> _printed = [];
    private TaskCompletionSource _nextLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
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
    public static PeerProcess Start(string program, params string[] arguments) => Start(program, null, arguments);

    private static PeerProcess Start(string program, string? workingDirectory, string[] arguments)
    {
        if (!IsInstalled(program))
            throw new InvalidOperationException($"{program} is not installed; the real-peer tests need it (apt-get install -y {program}).");
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return new PeerProcess(Process.Start(info)!);
    }

    /// <summary>
    /// Starts <paramref name="program"/> (in <paramref name="workingDirectory"/> when given) and waits up to 20 s for an
    /// output line that <paramref name="ready"/> accepts: a server saying it listens, say.
    /// </summary>
    /// <returns>The peer and the line that said it is ready.</returns>
    public static (PeerProcess Peer, string ReadyLine) Start(string program, IEnumerable<string> arguments, Func<string, bool> ready, string? workingDirectory = null)
    {
        var peer = Start(program, workingDirectory, [.. arguments]);
        try
        {
            return (peer, peer.WaitFor(ready, TimeSpan.FromSeconds(20)));
        }
        catch
        {
            peer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Starts <paramref name="program"/> and waits up to 20 s for an output line matching <paramref name="readyPattern"/>.
    /// </summary>
    /// <returns>The peer and the pattern's first group (its whole match when it has none): a port, say.</returns>
    public static (PeerProcess Peer, string Match) Start(string program, IEnumerable<string> arguments, string readyPattern)
    {
        var regex = new Regex(readyPattern);
        var (peer, line) = Start(program, arguments, regex.IsMatch);
        var match = regex.Match(line);
        return (peer, match.Groups.Count > 1 ? match.Groups[1].Value : match.Value);
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
        TaskCompletionSource printed;
        lock (_printed)
        {
            _printed.Add(line);
            printed = _nextLine;
            _nextLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        printed.TrySetResult();
        _lines.Add(line);
    }

    /// <summary>How many lines equal to <paramref name="line"/> the peer has printed so far (whether waited for or not).</summary>
    public int Count(string line)
    {
        lock (_printed) return _printed.Count(l => l == line);
    }

    /// <summary>Waits (for each new line, with a deadline) until the peer has printed <paramref name="line"/> <paramref name="times"/> times.</summary>
    public async Task WaitForAsync(string line, int times, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            Task next;
            lock (_printed)
            {
                if (_printed.Count(l => l == line) >= times) return;
                next = _nextLine.Task;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || await Task.WhenAny(next, Task.Delay(left)) != next)
                throw new TimeoutException($"The peer did not print '{line}' {times} times within {timeout}:\n{Transcript}");
        }
    }

    /// <summary>Blocks until the peer prints a line matching <paramref name="pattern"/>; returns the match.</summary>
    public Match WaitFor(string pattern, TimeSpan timeout)
    {
        var regex = new Regex(pattern);
        return regex.Match(WaitFor(regex.IsMatch, timeout, $"/{pattern}/"));
    }

    /// <summary>Blocks until the peer prints a line that <paramref name="accept"/> accepts; returns the line.</summary>
    public string WaitFor(Func<string, bool> accept, TimeSpan timeout) => WaitFor(accept, timeout, "the line it was waited for");

    private string WaitFor(Func<string, bool> accept, TimeSpan timeout, string wanted)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !_lines.TryTake(out var line, left))
                throw new TimeoutException($"The peer did not print {wanted} within {timeout} (exited: {_process.HasExited}):\n{Transcript}");
            if (accept(line)) return line;
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
