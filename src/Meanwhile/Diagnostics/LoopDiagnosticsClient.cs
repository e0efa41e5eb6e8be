using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Meanwhile;

/// <summary>
/// Asks a process's diagnostics endpoint for snapshots of its loops: what <c>meanwhile ps</c> and <c>meanwhile top</c>
/// use, for tools of your own. The process must have a loop with diagnostics on (<see cref="EventLoopOptions.Diagnostics"/>
/// or <c>MEANWHILE_DIAGNOSTICS=1</c>), and the caller must be the process's user.
/// </summary>
/// <example>
/// <code>
/// using var client = await LoopDiagnosticsClient.ConnectAsync(pid);
/// var snapshot = await client.GetSnapshotAsync();
/// foreach (var loop in snapshot.Loops)
///     Console.WriteLine($"{loop.Name}: {loop.LiveTasks} tasks, lag {loop.Lag?.TotalMilliseconds} ms");
/// </code>
/// </example>
public sealed class LoopDiagnosticsClient : IDisposable
{
    private const int MaxAnswerLength = 256 << 20;

    private readonly Socket _socket;
    private byte[] _buffer = new byte[64 * 1024];
    private int _buffered;

    private LoopDiagnosticsClient(Socket socket, int processId, string endpointPath)
    {
        _socket = socket;
        ProcessId = processId;
        EndpointPath = endpointPath;
    }

    /// <summary>The process asked.</summary>
    public int ProcessId { get; }

    /// <summary>The Unix socket of its endpoint.</summary>
    public string EndpointPath { get; }

    /// <summary>Connects to the diagnostics endpoint of process <paramref name="processId"/>.</summary>
    /// <param name="processId">The process.</param>
    /// <param name="cancellationToken">Abandons the attempt.</param>
    /// <exception cref="DiagnosticsUnavailableException">No such process, no endpoint in it, or not the caller's to ask.</exception>
    public static async Task<LoopDiagnosticsClient> ConnectAsync(int processId, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(processId);
        if (!OperatingSystem.IsLinux()) throw new DiagnosticsUnavailableException("Diagnostics endpoints exist on Linux only.");
        if (LinuxNative.StatOwner($"/proc/{processId}", out uint owner, out _, out _) < 0)
            throw new DiagnosticsUnavailableException($"No process {processId} is running.");
        var candidates = EndpointPaths.CandidatesFor(processId, owner).Distinct().ToList();
        // A socket in another user's directory cannot even be looked at (EACCES): it is still the one to try, and to name.
        string? path = candidates.FirstOrDefault(static p =>
            LinuxNative.StatOwner(p, out _, out _, out _) == 0 || Marshal.GetLastPInvokeError() == Errno.EACCES);
        if (path is null)
            throw new DiagnosticsUnavailableException(
                $"Process {processId} has no diagnostics endpoint (looked for {string.Join(", ", candidates)}): diagnostics are off in it. " +
                "Start it with MEANWHILE_DIAGNOSTICS=1 or EventLoopOptions.Diagnostics = true (meanwhile serve and echo have them on).");
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
            return new LoopDiagnosticsClient(socket, processId, path);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw e.SocketErrorCode switch
            {
                SocketError.AccessDenied => new DiagnosticsUnavailableException(
                    $"Permission denied: the diagnostics endpoint of process {processId} ({path}) belongs to uid {owner}, and only that user may ask it.", e),
                SocketError.ConnectionRefused => new DiagnosticsUnavailableException(
                    $"The diagnostics endpoint of process {processId} ({path}) does not answer: the process holding it has ended.", e),
                _ => new DiagnosticsUnavailableException($"Cannot connect to the diagnostics endpoint of process {processId} ({path}): {e.Message}", e),
            };
        }
    }

    /// <summary>Asks for a snapshot of every loop with diagnostics on.</summary>
    /// <param name="maxTasksPerLoop">At most this many tasks per loop (the endpoint caps it at 100,000).</param>
    /// <param name="cancellationToken">Abandons the request (the connection is then of no further use).</param>
    /// <exception cref="DiagnosticsUnavailableException">The endpoint refused, or went away.</exception>
    public async Task<ProcessSnapshot> GetSnapshotAsync(int maxTasksPerLoop = 1000, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTasksPerLoop);
        try
        {
            try
            {
                await _socket.SendAsync(Encoding.ASCII.GetBytes($"snapshot max-tasks={maxTasksPerLoop}\n"), SocketFlags.None, cancellationToken);
            }
            catch (SocketException)
            {
                // A refusing endpoint answers at once and closes: its reason may be waiting to be read.
                if (await TryReadRefusalAsync(cancellationToken) is { } refusal) throw new DiagnosticsUnavailableException($"Process {ProcessId} refused: {refusal}");
                throw;
            }
            string line = await ReadLineAsync(cancellationToken);
            using var document = JsonDocument.Parse(line);
            if (document.RootElement.TryGetProperty("error", out var error))
                throw new DiagnosticsUnavailableException($"Process {ProcessId} refused: {error.GetString()}");
            return SnapshotJson.ReadProcess(document.RootElement);
        }
        catch (SocketException e)
        {
            throw new DiagnosticsUnavailableException($"The diagnostics connection to process {ProcessId} failed: {e.Message}", e);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new DiagnosticsUnavailableException($"Process {ProcessId} answered something that is not a snapshot: {e.Message}", e);
        }
    }

    private async Task<string?> TryReadRefusalAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var document = JsonDocument.Parse(await ReadLineAsync(cancellationToken));
            return document.RootElement.TryGetProperty("error", out var error) ? error.GetString() : null;
        }
        catch (Exception e) when (e is SocketException or JsonException or DiagnosticsUnavailableException)
        {
            return null;
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        int scanned = 0;
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', scanned, _buffered - scanned);
            if (newline >= 0)
            {
                string line = Encoding.UTF8.GetString(_buffer, 0, newline);
                _buffered -= newline + 1;
                Buffer.BlockCopy(_buffer, newline + 1, _buffer, 0, _buffered);
                return line;
            }
            scanned = _buffered;
            if (_buffered == _buffer.Length)
            {
                if (_buffer.Length >= MaxAnswerLength) throw new DiagnosticsUnavailableException($"Process {ProcessId} answered more than {MaxAnswerLength >> 20} MiB.");
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            int read = await _socket.ReceiveAsync(_buffer.AsMemory(_buffered), SocketFlags.None, cancellationToken);
            if (read == 0) throw new DiagnosticsUnavailableException($"Process {ProcessId} closed the diagnostics connection.");
            _buffered += read;
        }
    }

    /// <summary>Closes the connection.</summary>
    public void Dispose() => _socket.Dispose();
}
