using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Meanwhile.Cli.Tests;

/// <summary>
/// Runs the built tool (or an example) as a process: what a user runs, with the environment (MEANWHILE_REACTOR) passed
/// on. The tool is <c>dotnet Meanwhile.Cli.dll</c>, or the native executable MEANWHILE_TOOL names (CI sets it to the
/// published <c>meanwhile</c>, so the same tests check that build too).
/// </summary>
internal sealed class ToolProcess : IDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    /// <summary>The native tool under test, if any.</summary>
    public static string? NativeTool => Environment.GetEnvironmentVariable("MEANWHILE_TOOL") is { Length: > 0 } path ? path : null;

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(StringBuilder Stream, string Text, TaskCompletionSource<DateTime> Seen)> _watches = [];

    private ToolProcess(string program, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) { _listening.TrySetException(new InvalidOperationException($"exited before listening: {Stderr}")); return; }
            Append(_stdout, e.Data);
            if (e.Data.StartsWith("listening on http://", StringComparison.Ordinal) || e.Data.StartsWith("listening on https://", StringComparison.Ordinal)) _listening.TrySetResult(e.Data.Split(' ')[2]);
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) Append(_stderr, e.Data);
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _process.StandardInput.Close();
    }

    /// <summary>The process id (of the tool itself: a wrapper such as setpriv execs it).</summary>
    public int Pid => _process.Id;

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    /// <summary>When the process ended (valid after <see cref="WaitForExit"/>).</summary>
    public DateTime ExitTime => _process.ExitTime.ToUniversalTime();

    /// <summary>Starts the tool.</summary>
    public static ToolProcess Start(params string[] args) => StartWith([], args);

    /// <summary>Starts the tool under a wrapper command (<c>setpriv ... --</c>), e.g. to drop privileges.</summary>
    public static ToolProcess StartWith(string[] wrapper, params string[] args)
    {
        string[] tool = NativeTool is { } native ? [native] : ["dotnet", Path.Combine(AppContext.BaseDirectory, "Meanwhile.Cli.dll")];
        string[] command = [.. wrapper, .. tool, .. args];
        return new ToolProcess(command[0], command[1..]);
    }

    /// <summary>
    /// A wrapper that runs the tool without privileges: as nobody with no capabilities (util-linux's setpriv) when
    /// the tests run as root, as the user running them otherwise.
    /// </summary>
    public static string[] Unprivileged => Environment.IsPrivilegedProcess
        ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--"]
        : [];

    public static ToolProcess StartAssembly(string assembly, params string[] args) => new("dotnet", [Path.Combine(AppContext.BaseDirectory, assembly), .. args]);

    /// <summary>Runs the tool to its end.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        using var tool = Start(args);
        int code = tool.WaitForExit();
        return (code, tool.Stdout, tool.Stderr);
    }

    /// <summary>The server's URL, from its "listening on" line.</summary>
    public Uri WaitListening()
    {
        if (!_listening.Task.Wait(Deadline)) throw new TimeoutException($"no 'listening on' line: {Stdout}{Stderr}");
        return new Uri(_listening.Task.Result);
    }

    /// <summary>Waits for a line on stderr containing <paramref name="text"/>; returns when it arrived.</summary>
    public DateTime WaitForStderr(string text) => WaitFor(_stderr, "stderr", text);

    /// <summary>Waits for a line on stdout containing <paramref name="text"/>; returns when it arrived.</summary>
    public DateTime WaitForStdout(string text) => WaitFor(_stdout, "stdout", text);

    private DateTime WaitFor(StringBuilder stream, string name, string text)
    {
        var seen = new TaskCompletionSource<DateTime>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (stream)
        {
            if (stream.ToString().Contains(text, StringComparison.Ordinal)) return DateTime.UtcNow;
            lock (_watches) _watches.Add((stream, text, seen));
        }
        if (!seen.Task.Wait(Deadline)) throw new TimeoutException($"no '{text}' on {name}: {Stdout}{Stderr}");
        return seen.Task.Result;
    }

    private void Append(StringBuilder stream, string line)
    {
        var now = DateTime.UtcNow;
        lock (stream)
        {
            stream.AppendLine(line);
            lock (_watches)
            {
                foreach (var (watched, text, seen) in _watches)
                    if (watched == stream && line.Contains(text, StringComparison.Ordinal)) seen.TrySetResult(now);
            }
        }
    }

    /// <summary>Sends SIGTERM (what Ctrl+C's handler also does: a graceful stop).</summary>
    public void Terminate() => Signal(Signals.Term);

    /// <summary>Sends a signal.</summary>
    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0) throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public int WaitForExit()
    {
        if (!_process.WaitForExit(Deadline)) throw new TimeoutException($"the tool did not exit: {Stdout}{Stderr}");
        _process.WaitForExit(); // drains the output events
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}

/// <summary>Linux signal numbers.</summary>
internal static class Signals
{
    public const int Hup = 1;
    public const int Int = 2;
    public const int Term = 15;
}
