using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Meanwhile.Http.Proxy.Tests;

/// <summary>A program the tests talk to, started with a deadline for its "listening" line and killed on dispose.</summary>
internal sealed class PeerProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];
    private TaskCompletionSource _line = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed;

    private PeerProcess(Process process) => _process = process;

    /// <summary>Starts <paramref name="file"/> and waits (an event with a deadline) for a line of its output matching <paramref name="ready"/>; returns the first group.</summary>
    public static (PeerProcess Peer, string Match) Start(string file, IEnumerable<string> args, string ready)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        var process = Process.Start(info)!;
        var peer = new PeerProcess(process);
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pattern = new Regex(ready);
        void OnLine(string? line)
        {
            if (line is null) return;
            TaskCompletionSource signal;
            lock (peer._output)
            {
                peer._output.Add(line);
                signal = peer._line;
                peer._line = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            signal.TrySetResult();
            if (pattern.Match(line) is { Success: true } m) found.TrySetResult(m.Groups.Count > 1 ? m.Groups[1].Value : m.Value);
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Exited += (_, _) => found.TrySetException(new InvalidOperationException($"{file} exited: {peer.Output}"));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!found.Task.Wait(TimeSpan.FromSeconds(30)))
        {
            peer.Dispose();
            throw new TimeoutException($"{file} never said it was ready: {peer.Output}");
        }
        return (peer, found.Task.Result);
    }

    /// <summary>Lines of output equal to <paramref name="line"/> so far.</summary>
    public int Count(string line)
    {
        lock (_output) return _output.Count(l => l == line);
    }

    /// <summary>Waits (for each new line, with a deadline) until <paramref name="line"/> has been printed <paramref name="times"/> times.</summary>
    public async Task WaitForAsync(string line, int times, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            Task next;
            lock (_output)
            {
                if (_output.Count(l => l == line) >= times) return;
                next = _line.Task;
            }
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (left <= TimeSpan.Zero || await Task.WhenAny(next, Task.Delay(left)) != next)
                throw new TimeoutException($"'{line}' was not printed {times} times: {Output}");
        }
    }

    public string Output
    {
        get { lock (_output) return string.Join("\n", _output); }
    }

    /// <summary>Kills the program (a test may kill it before its end of scope disposes it again).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        _process.WaitForExit(10_000);
        _process.Dispose();
    }
}

/// <summary>Node's http module as an upstream, with routes for each behaviour the tests need (see node-upstream.js).</summary>
internal sealed class NodeUpstream : IDisposable
{
    private readonly PeerProcess _peer;

    public NodeUpstream()
    {
        string script = Path.Combine(AppContext.BaseDirectory, "peers", "node-upstream.js");
        (_peer, string port) = PeerProcess.Start("node", [script], @"^listening (\d+)$");
        Port = int.Parse(port, System.Globalization.CultureInfo.InvariantCulture);
    }

    public int Port { get; }

    public Uri Uri => new($"http://127.0.0.1:{Port}");

    /// <summary>The node process, whose output has a line "request METHOD URL" per request.</summary>
    public PeerProcess Process => _peer;

    /// <summary>Requests node received for <paramref name="url"/> (any method).</summary>
    public int Requests(string url) => _peer.Count($"request GET {url}") + _peer.Count($"request POST {url}");

    public void Dispose() => _peer.Dispose();

    /// <summary>The bytes of /big: 1 MiB, the same pattern node-upstream.js makes.</summary>
    public static byte[] Big()
    {
        var big = new byte[1 << 20];
        for (int i = 0; i < big.Length; i++) big[i] = (byte)((i * 31) + 7);
        return big;
    }
}

/// <summary>Runs a client program (curl, wrk, chromium) to its end, with a deadline.</summary>
internal static class Tool
{
    public static bool Exists(string name) =>
        (Environment.GetEnvironmentVariable("PATH") + ":/usr/sbin:/sbin").Split(':').Any(dir => File.Exists(System.IO.Path.Combine(dir, name)));

    public static (int ExitCode, byte[] Stdout, string Stderr) Run(string file, IEnumerable<string> args, int timeoutSeconds = 60)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within {timeoutSeconds} s");
        }
        copy.Wait();
        return (process.ExitCode, stdout.ToArray(), stderr.Result);
    }
}

/// <summary>A fact that is skipped when a program it needs is not installed.</summary>
public sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(params string[] tools)
    {
        foreach (var tool in tools)
        {
            if (!Tool.Exists(tool)) Skip = $"{tool} is not installed";
        }
    }
}
