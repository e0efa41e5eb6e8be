using System.Diagnostics;
using System.Text;

namespace Meanwhile.Cli.Tests;

/// <summary>Runs the built tool (or an example) as a process: what a user runs, with the environment (MEANWHILE_REACTOR) passed on.</summary>
internal sealed class ToolProcess : IDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ToolProcess(string assembly, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) { _listening.TrySetException(new InvalidOperationException($"exited before listening: {Stderr}")); return; }
            lock (_stdout) _stdout.AppendLine(e.Data);
            if (e.Data.StartsWith("listening on http://", StringComparison.Ordinal)) _listening.TrySetResult(e.Data.Split(' ')[2]);
        };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _process.StandardInput.Close();
    }

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public static ToolProcess Start(params string[] args) => new("Meanwhile.Cli.dll", args);

    public static ToolProcess StartAssembly(string assembly, params string[] args) => new(assembly, args);

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

    /// <summary>Sends SIGTERM (what Ctrl+C's handler also does: a graceful stop).</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
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
}
