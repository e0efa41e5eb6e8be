using System.ComponentModel;
using System.Diagnostics;

namespace Meanwhile;

/// <summary>
/// A child process on the portable reactor: System.Diagnostics.Process with redirected streams. Its pipes become
/// <see cref="PortableProcessPipe"/>s; waiting for its exit is .NET's own WaitForExitAsync, counted as a wait on
/// the outside world.
/// </summary>
/// <remarks>
/// <para>.NET has no /dev/null redirection: <see cref="ProcessStdio.Null"/> redirects to a pipe that is closed at once
/// (stdin: the child reads end of stream) or drained and discarded off the loop (stdout, stderr).</para>
/// <para>.NET reports a child killed by a signal as exit code 128 + signal, exactly like a child that called
/// exit(128 + signal); the signal is reported only when this object sent that very signal.</para>
/// </remarks>
internal sealed class PortableProcess : PlatformProcess
{
    private readonly EventLoop _loop;
    private readonly Process _process;
    private readonly string _subject;
    private ProcessSignal? _sent;
    private ProcessExit? _exit;

    private PortableProcess(EventLoop loop, Process process, string name, ChildProcessOptions options)
    {
        _loop = loop;
        _process = process;
        Id = process.Id;
        _subject = $"process {Id} ({name})";
        Input = Pipe(options.StandardInput, () => process.StandardInput.BaseStream, $"stdin of {_subject}");
        Output = Pipe(options.StandardOutput, () => process.StandardOutput.BaseStream, $"stdout of {_subject}");
        Error = Pipe(options.StandardError, () => process.StandardError.BaseStream, $"stderr of {_subject}");
    }

    public override int Id { get; }

    public override ProcessExit? Exit => _exit;

    public static PortableProcess Start(EventLoop loop, ProcessStartRequest request)
    {
        var options = request.Options;
        var info = new ProcessStartInfo(request.FileName, request.Arguments)
        {
            UseShellExecute = false,
            RedirectStandardInput = options.StandardInput != ProcessStdio.Inherit,
            RedirectStandardOutput = options.StandardOutput != ProcessStdio.Inherit,
            RedirectStandardError = options.StandardError != ProcessStdio.Inherit,
        };
        if (options.WorkingDirectory is { } directory)
        {
            if (!Directory.Exists(directory)) throw new PathNotFoundException("chdir", Errno.ENOENT, directory);
            info.WorkingDirectory = directory;
        }
        if (options.Environment is { } changes)
        {
            foreach (var (key, value) in changes)
            {
                if (value is null) info.Environment.Remove(key);
                else info.Environment[key] = value;
            }
        }
        var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            // NativeErrorCode is the errno on Unix; on Windows ERROR_FILE_NOT_FOUND (2) happens to equal ENOENT, and
            // ERROR_ACCESS_DENIED (5) is translated.
            int errno = OperatingSystem.IsWindows() && e.NativeErrorCode == 5 ? Errno.EACCES : e.NativeErrorCode;
            throw SystemErrors.From("start", errno, request.FileName);
        }
        // Null stdio: see the remarks.
        if (options.StandardInput == ProcessStdio.Null) process.StandardInput.Close();
        if (options.StandardOutput == ProcessStdio.Null) _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        if (options.StandardError == ProcessStdio.Null) _ = process.StandardError.BaseStream.CopyToAsync(Stream.Null);
        return new PortableProcess(loop, process, Path.GetFileName(request.FileName), options);
    }

    private PortableProcessPipe? Pipe(ProcessStdio mode, Func<Stream> stream, string description) =>
        mode == ProcessStdio.Pipe ? new PortableProcessPipe(_loop, stream(), description) : null;

    public override async Task<ProcessExit> WaitForExitAsync(CancellationToken cancellationToken)
    {
        if (_exit is { } exit) return exit;
        using (PortableWait.Begin(_loop, cancellationToken, out var token))
            await _process.WaitForExitAsync(token);
        return RecordExit();
    }

    private ProcessExit RecordExit()
    {
        if (_exit is { } exit) return exit;
        int code = _process.ExitCode;
        _exit = _sent is { } signal && code == 128 + (int)signal ? ProcessExit.Killed((int)signal) : new ProcessExit(code, null);
        return _exit.Value;
    }

    public override void Kill(ProcessSignal signal)
    {
        if (_exit is not null || _process.HasExited) return;
        if (signal == ProcessSignal.Kill)
        {
            _process.Kill();
        }
        else if (OperatingSystem.IsLinux())
        {
            // .NET can only send SIGKILL; other signals need kill(2) (Linux numbering, as ProcessSignal's).
            if (LinuxNative.kill(Id, (int)signal) < 0)
            {
                int errno = LinuxNative.LastErrno;
                if (errno == LinuxNative.ESRCH) return;
                throw SystemErrors.From("kill", errno, _subject);
            }
        }
        else throw new PlatformNotSupportedException($"Only ProcessSignal.Kill can be sent to {_subject} on this platform.");
        _sent = signal;
    }

    public override async ValueTask CloseAsync(bool killIfRunning)
    {
        try
        {
            if (killIfRunning && !_process.HasExited)
            {
                Kill(ProcessSignal.Kill);
                await WaitForExitAsync(CancellationToken.None);
            }
        }
        finally
        {
            // A child left running stays in .NET's table; .NET's SIGCHLD handling reaps it when it exits.
            _process.Dispose();
        }
    }
}
