using System.Buffers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Meanwhile;

/// <summary>
/// The process's diagnostics endpoint: a Unix socket at <see cref="EndpointPaths.ForThisProcess"/>, mode 0600 in a
/// directory of mode 0700, that answers <c>meanwhile ps</c> and <c>meanwhile top</c> with snapshots of the loops that
/// have diagnostics on. It starts with the first such loop and lasts as long as the process (its socket file is removed
/// at exit). Nobody but the process's user can connect: the file modes keep others out, and each connection's peer
/// credentials (SO_PEERCRED) are checked as well, which also turns away root, who passes file modes.
/// </summary>
/// <remarks>
/// It runs on threads of its own, not on a loop nor on the thread pool, so that it can still answer about a loop that is
/// stuck, or a process whose pool is starved. A request is one line, <c>snapshot [max-tasks=N] [wait-ms=N]</c>; the
/// answer one line of JSON (<see cref="ProcessSnapshot"/>) or <c>{"error": "..."}</c>. Each loop takes its own snapshot
/// in one turn; a loop that does not answer within the wait is read from outside (<see cref="SnapshotBuilder"/>).
/// </remarks>
internal static class DiagnosticsEndpoint
{
    public const int MaxClients = 8;
    public const int DefaultMaxTasks = 1000;
    public const int MaxTasksLimit = 100_000;
    private const int MaxRequestLength = 1024;
    private static readonly TimeSpan DefaultWait = TimeSpan.FromMilliseconds(500);

    private static int s_started;
    private static int s_clients;
    private static Socket? s_listener;
    private static string? s_path;

    /// <summary>Whether <c>MEANWHILE_DIAGNOSTICS=1</c> asks for diagnostics on every loop that does not say otherwise.</summary>
    public static bool RequestedByEnvironment => Environment.GetEnvironmentVariable("MEANWHILE_DIAGNOSTICS")?.Trim() == "1";

    /// <summary>Where this process's endpoint listens, once started.</summary>
    public static string? Path => Volatile.Read(ref s_path);

    /// <summary>Starts the endpoint unless it runs already; a failure is said once on standard error (the loops keep their diagnostics).</summary>
    public static void EnsureStarted()
    {
        if (Interlocked.Exchange(ref s_started, 1) != 0) return;
        if (!OperatingSystem.IsLinux()) return; // Linux only for now: it relies on SO_PEERCRED and the paths above
        try
        {
            Start();
        }
        catch (Exception e) when (e is IOException or SocketException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"Meanwhile: the diagnostics endpoint did not start: {e.Message}");
        }
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static void Start()
    {
        string path = EndpointPaths.ForThisProcess();
        if (File.Exists(path)) File.Delete(path); // left by an earlier process with this id
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(MaxClients);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        s_listener = listener;
        Volatile.Write(ref s_path, path);
        AppDomain.CurrentDomain.ProcessExit += static (_, _) => Stop();
        new Thread(() => AcceptLoop(listener)) { IsBackground = true, Name = "meanwhile diagnostics" }.Start();
    }

    private static void Stop()
    {
        var listener = Interlocked.Exchange(ref s_listener, null);
        if (listener is null) return;
        listener.Dispose();
        try { File.Delete(s_path!); }
        catch (IOException) { }
    }

    private static void AcceptLoop(Socket listener)
    {
        uint me = LinuxNative.geteuid();
        while (true)
        {
            Socket client;
            try
            {
                client = listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                if (Volatile.Read(ref s_listener) is null) return; // stopped
                continue; // the peer gave up before we took it, say
            }
            uint peer = PeerUser(client);
            if (peer != me)
            {
                Refuse(client, $"this diagnostics endpoint answers only its process's user (uid {me}); you are uid {peer}");
                continue;
            }
            if (Interlocked.Increment(ref s_clients) > MaxClients)
            {
                Interlocked.Decrement(ref s_clients);
                Refuse(client, $"busy: {MaxClients} clients are connected already");
                continue;
            }
            new Thread(() => Serve(client)) { IsBackground = true, Name = "meanwhile diagnostics client" }.Start();
        }
    }

    /// <summary>The peer's user id, from SO_PEERCRED (struct ucred: pid, uid, gid); uint.MaxValue if it cannot be read.</summary>
    private static uint PeerUser(Socket client)
    {
        Span<byte> credentials = stackalloc byte[12];
        try
        {
            const int SolSocket = 1, SoPeerCred = 17;
            return client.GetRawSocketOption(SolSocket, SoPeerCred, credentials) == 12 ? BitConverter.ToUInt32(credentials[4..]) : uint.MaxValue;
        }
        catch (SocketException)
        {
            return uint.MaxValue;
        }
    }

    /// <summary>
    /// Sends the reason and closes gracefully, off the accept thread: the client's request may arrive after the answer,
    /// and closing with it unread would reset the connection, which can cost the client the reason it was sent.
    /// </summary>
    private static void Refuse(Socket client, string reason) => new Thread(() =>
    {
        try
        {
            client.SendTimeout = 1000;
            client.ReceiveTimeout = 2000;
            client.Send(ErrorLine(reason));
            client.Shutdown(SocketShutdown.Send);
            var discard = new byte[256];
            for (int i = 0; i < 64 && client.Receive(discard) > 0; i++) { } // until the client closes, or 16 KiB
        }
        catch (SocketException) { }
        finally
        {
            client.Dispose();
        }
    })
    { IsBackground = true, Name = "meanwhile diagnostics refusal" }.Start();

    private static void Serve(Socket client)
    {
        try
        {
            // top asks once per refresh; a client silent for this long has gone.
            client.ReceiveTimeout = (int)TimeSpan.FromMinutes(10).TotalMilliseconds;
            client.SendTimeout = (int)TimeSpan.FromSeconds(30).TotalMilliseconds;
            var pending = new List<byte>();
            var buffer = new byte[256];
            while (true)
            {
                int newline = pending.IndexOf((byte)'\n');
                if (newline < 0)
                {
                    if (pending.Count > MaxRequestLength)
                    {
                        client.Send(ErrorLine($"a request is one line of at most {MaxRequestLength} bytes"));
                        return;
                    }
                    int read = client.Receive(buffer);
                    if (read == 0) return;
                    pending.AddRange(buffer.AsSpan(0, read));
                    continue;
                }
                string request = Encoding.UTF8.GetString([.. pending.GetRange(0, newline)]).Trim();
                pending.RemoveRange(0, newline + 1);
                client.Send(Answer(request));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The client went away.
        }
        finally
        {
            client.Dispose();
            Interlocked.Decrement(ref s_clients);
        }
    }

    /// <summary>The answer to one request line.</summary>
    internal static byte[] Answer(string request)
    {
        var words = request.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || words[0] != "snapshot")
            return ErrorLine($"unknown request '{request}'; the endpoint answers 'snapshot [max-tasks=N] [wait-ms=N]'");
        int maxTasks = DefaultMaxTasks;
        var wait = DefaultWait;
        foreach (var word in words.AsSpan(1))
        {
            if (word.StartsWith("max-tasks=", StringComparison.Ordinal) && int.TryParse(word.AsSpan(10), out int max) && max >= 0)
                maxTasks = Math.Min(max, MaxTasksLimit);
            else if (word.StartsWith("wait-ms=", StringComparison.Ordinal) && int.TryParse(word.AsSpan(8), out int ms) && ms >= 0)
                wait = TimeSpan.FromMilliseconds(Math.Min(ms, 60_000));
            else
                return ErrorLine($"unknown argument '{word}' in '{request}'");
        }
        var snapshot = Snapshot(maxTasks, wait);
        var output = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(output)) SnapshotJson.Write(writer, snapshot);
        output.Write("\n"u8);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Asks every loop with diagnostics on for its snapshot, waiting at most <paramref name="wait"/> in all; the others are read from outside.</summary>
    internal static ProcessSnapshot Snapshot(int maxTasks, TimeSpan wait)
    {
        var loops = LiveLoops.Snapshot(withDiagnostics: true);
        var requests = loops.Select(loop => SnapshotRequest.Post(loop, maxTasks)).ToList();
        var deadline = DateTime.UtcNow + wait;
        var snapshots = new List<LoopSnapshot>(loops.Count);
        for (int i = 0; i < loops.Count; i++)
        {
            var remaining = deadline - DateTime.UtcNow;
            snapshots.Add(requests[i]?.Wait(remaining < TimeSpan.Zero ? TimeSpan.Zero : remaining)
                ?? SnapshotBuilder.Take(loops[i], maxTasks, onLoop: false, lag: null));
        }
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return new ProcessSnapshot
        {
            ProcessId = Environment.ProcessId,
            ProcessName = process.ProcessName,
            Time = DateTimeOffset.UtcNow,
            Loops = snapshots,
        };
    }

    private static byte[] ErrorLine(string message)
    {
        var output = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteString("error", message);
            writer.WriteEndObject();
        }
        output.Write("\n"u8);
        return output.WrittenSpan.ToArray();
    }
}
