using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;

namespace Meanwhile.Http.Client.Tests;

/// <summary>Runs test bodies on a fresh loop on its own thread, failing (not hanging) when the loop does not finish.</summary>
internal static class Loops
{
    public static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(60);

    public static void Run(Func<Task> main, EventLoopOptions? options = null)
    {
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var loop = new EventLoop(options);
                loop.RunUntilComplete(main);
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        { IsBackground = true, Name = "test loop" };
        thread.Start();
        if (!thread.Join(HangLimit))
        {
            throw new TimeoutException($"The loop did not finish within {HangLimit}.");
        }

        failure?.Throw();
    }

    /// <summary>Runs <paramref name="main"/> with a client made with <paramref name="options"/>, disposed at the end.</summary>
    public static void WithClient(Func<LoopHttpClient, Task> main, LoopHttpClientOptions? options = null) => Run(async () =>
    {
        await using var client = new LoopHttpClient(options);
        await main(client);
    });

    public static Task<LoopHttpException> Fails(Func<ValueTask<LoopHttpResponse>> send) => Fails(async () =>
    {
        using var response = await send();
    });

    public static async Task<LoopHttpException> Fails(Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (LoopHttpException e)
        {
            return e;
        }

        throw new Xunit.Sdk.XunitException("Expected a LoopHttpException; the call succeeded.");
    }
}

/// <summary>A peer server run as a child process; it is killed (with its children) on dispose.</summary>
internal sealed class PeerProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private PeerProcess(Process process) => this._process = process;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    /// <summary>Starts <paramref name="file"/> and waits (up to 20 s) for an output line (stdout or stderr) that <paramref name="ready"/> accepts.</summary>
    /// <returns>The process and the line that said it is ready.</returns>
    public static (PeerProcess Peer, string ReadyLine) Start(string file, IEnumerable<string> args, Func<string, bool> ready, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {file}.");
        var peer = new PeerProcess(process);
        var readyLine = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }

            lock (peer._output)
            {
                peer._output.Add(e.Data);
            }

            if (ready(e.Data))
            {
                readyLine.TrySetResult(e.Data);
            }
        }

        process.OutputDataReceived += OnLine;
        process.ErrorDataReceived += OnLine;
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => readyLine.TrySetException(new InvalidOperationException($"{file} exited early: {peer.Output}"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!readyLine.Task.Wait(TimeSpan.FromSeconds(20)))
        {
            peer.Dispose();
            throw new TimeoutException($"{file} did not become ready: {peer.Output}");
        }

        return (peer, readyLine.Task.Result);
    }

    public void Dispose()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        _process.Dispose();
    }
}

internal static class FreePort
{
    /// <summary>A loopback port free right now (for peers such as nginx that cannot report a port 0 binding).</summary>
    public static int Get()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}

/// <summary>A temporary directory removed on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        // Readable by all: nginx's workers run as another user than the test when it runs as root.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
    }

    public string Path { get; } = Directory.CreateTempSubdirectory("meanwhile-client-").FullName;

    public string this[string name] => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // a peer may still hold a file; the OS cleans temp
        }
    }
}
