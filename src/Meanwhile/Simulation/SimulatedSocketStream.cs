using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// One end of a simulated TCP or Unix connection, with the semantics of a kernel socket: bytes arrive in order after
/// the link's latency; a writer waits once <see cref="SimulationOptions.SendBufferSize"/> bytes are sent and unread by
/// the peer (backpressure); <see cref="ShutdownWrite"/> is a half-close; a close with unread input, a crash, or data
/// for a closed socket resets the connection (ECONNRESET); a segment lost too often times it out (ETIMEDOUT).
/// </summary>
/// <remarks>The peer's reads free room at once: window updates cross the network without latency (a simplification).</remarks>
internal sealed class SimulatedSocketStream : PlatformStream, IConnectedSocket, ISimulatedResource
{
    // Ten thousand connections are alive at once in the scale run: the network is the host's, what few connections need
    // (a second unread chunk, segments out of order) is in one object made on first use, and the flags share a byte.
    private readonly IoRegistration _registration;
    // What arrived and is unread, in order: the chunk being read, then the rest (Rare.ReceivedLater). Most connections
    // never have more than one chunk unread (a request, a response), so the queue is made only for a second one.
    private byte[]? _receivedFirst;
    private Rare? _rare;
    private readonly SimulatedHost _peerHost;
    private SimulatedSocketStream? _peer;
    private int _receivedOffset;
    private int _receivedBytes;
    private int _unreadAtPeer;
    private long _nextSendSequence;
    private long _nextReceiveSequence;
    private int _errno;
    private State _state;

    private SimulatedSocketStream(SimulatedNetwork network, SimulatedHost host, SimulatedHost peerHost, EndPoint? local, EndPoint? remote)
    {
        Host = host;
        _peerHost = peerHost;
        LocalEndPoint = local;
        RemoteEndPoint = remote;
        Id = network.NextResourceId();
        host.Resources.Add(this);
        _registration = new IoRegistration(network.Loop, unchecked((int)Id), external: false);
    }

    public long Id { get; }

    public ISimulatedResource? PreviousResource { get; set; }

    public ISimulatedResource? NextResource { get; set; }

    // Checked here, as the epoll stream does, rather than by DataStream: its wrapper would cost a box per pending read or
    // write (ten thousand waiting connections, ten thousand boxes) and a second throw when such a wait is cancelled.
    public override bool GuardsConcurrentOperations => true;

    public SimulatedHost Host { get; }

    public EndPoint? LocalEndPoint { get; }

    public EndPoint? RemoteEndPoint { get; }

    public bool IsClosed { get => Has(State.Closed); private set => Set(State.Closed, value); }

    /// <summary>Reset, timed out or closed before connecting: what it still has in flight no longer matters.</summary>
    public bool IsAbandoned { get => Has(State.Abandoned); private set => Set(State.Abandoned, value); }

    private bool Connected { get => Has(State.Connected); set => Set(State.Connected, value); }

    private bool PeerFinished { get => Has(State.PeerFinished); set => Set(State.PeerFinished, value); }

    private bool WriteShut { get => Has(State.WriteShut); set => Set(State.WriteShut, value); }

    private bool SentReset { get => Has(State.SentReset); set => Set(State.SentReset, value); }

    private bool IsPipe { get => Has(State.Pipe); init => Set(State.Pipe, value); }

    private bool ReadPending { get => Has(State.ReadPending); set => Set(State.ReadPending, value); }

    private bool WritePending { get => Has(State.WritePending); set => Set(State.WritePending, value); }

    private SimulatedNetwork Network => Host.Network;

    public override string Description => IsPipe ? $"pipe #{Id} on {Host.Name} (simulated)" :
        $"{(LocalEndPoint is UnixDomainSocketEndPoint || RemoteEndPoint is UnixDomainSocketEndPoint ? "unix" : "tcp")} {LocalEndPoint} <-> {RemoteEndPoint} on {Host.Name} (simulated)";

    /// <summary>Opens a connection from <paramref name="host"/> to <paramref name="endpoint"/>: a SYN, then its answer.</summary>
    public static ValueTask<SocketStream> ConnectAsync(SimulatedNetwork network, SimulatedHost host, EndPoint endpoint, CancellationToken cancellationToken)
    {
        SimulatedHost target;
        EndPoint? local;
        if (endpoint is IPEndPoint ip)
        {
            target = network.Route(host, ip.Address) ?? throw SystemErrors.From("connect", Errno.ENETUNREACH, $"{endpoint} from {host.Name} (simulated)");
            var address = ReferenceEquals(target, host) && IPAddress.IsLoopback(ip.Address) ? IPAddress.Loopback : host.Address;
            local = new IPEndPoint(address, host.NextEphemeralPort(static _ => true));
        }
        else if (endpoint is UnixDomainSocketEndPoint)
        {
            target = host;
            local = null; // an unnamed Unix socket
        }
        else throw new ArgumentException($"A simulated stream connects to an IPEndPoint or a UnixDomainSocketEndPoint, not {endpoint.GetType().Name}.", nameof(endpoint));
        var stream = new SimulatedSocketStream(network, host, target, local, endpoint);
        StreamSegment.Send(network, SegmentKind.Syn, stream, null, host, target, 0, null);
        return stream.WaitConnectedAsync(cancellationToken);
    }

    // The wait for the SYN's answer, apart from the checks and the SYN above: its state machine (ten thousand of them
    // wait at once when as many clients connect together) holds the stream and the token only.
    private async ValueTask<SocketStream> WaitConnectedAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!Connected)
            {
                if (_errno != 0) throw SystemErrors.From("connect", _errno, $"{RemoteEndPoint} ({_peerHost.Name}) from {Host.Name} (simulated)");
                await _registration.WaitWritableAsync(cancellationToken);
            }
        }
        catch
        {
            await CloseAsync();
            throw;
        }
        return new SocketStream(Network.Loop, this);
    }

    /// <summary>The listener's side of a connection whose SYN just arrived; answers it.</summary>
    public static SimulatedSocketStream Accept(SimulatedNetwork network, StreamSegment syn, EndPoint local)
    {
        var client = syn.Source!;
        var server = new SimulatedSocketStream(network, syn.To, syn.From, local, client.LocalEndPoint) { _peer = client, Connected = true };
        StreamSegment.Send(network, SegmentKind.SynAck, server, client, syn.To, syn.From, 0, null);
        return server;
    }

    /// <summary>Two connected ends on one host, with no handshake: a pipe.</summary>
    public static (SimulatedSocketStream A, SimulatedSocketStream B) Pair(SimulatedNetwork network, SimulatedHost host)
    {
        var a = new SimulatedSocketStream(network, host, host, null, null) { Connected = true, IsPipe = true };
        var b = new SimulatedSocketStream(network, host, host, null, null) { Connected = true, IsPipe = true, _peer = a };
        a._peer = b;
        return (a, b);
    }

    /// <summary>A pipe's write end never reads: it behaves as if it had been shut for reading.</summary>
    public void ShutdownRead() => PeerFinished = true;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (IsClosed) return ValueTask.FromException<int>(new ObjectDisposedException(Description));
        if (ReadPending || _registration.IsWaitingReadable) throw new InvalidOperationException($"A read is already in progress on {Description}; one reader at a time.");
        if (buffer.IsEmpty) return DataMayBeThere ? new ValueTask<int>(0) : _registration.WaitReadableForZeroByteRead(cancellationToken);
        if (_receivedBytes > 0) return new ValueTask<int>(Take(buffer.Span));
        if (_errno != 0) return ValueTask.FromException<int>(SystemErrors.From("recv", _errno, Description));
        if (PeerFinished) return new ValueTask<int>(0);
        return ReadSlowAsync(buffer, cancellationToken);
    }

    public override ValueTask<bool> WaitForDataAsync(CancellationToken cancellationToken)
    {
        if (IsClosed) return ValueTask.FromException<bool>(new ObjectDisposedException(Description));
        if (ReadPending || _registration.IsWaitingReadable) throw new InvalidOperationException($"A read is already in progress on {Description}; one reader at a time.");
        return DataMayBeThere ? new ValueTask<bool>(true) : _registration.WaitReadableUnlessCanceled(cancellationToken);
    }

    // Data, the end or an error to read: a zero-byte read need not wait.
    private bool DataMayBeThere => _receivedBytes > 0 || PeerFinished || _errno != 0;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadSlowAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ReadPending = true;
        try
        {
            while (true)
            {
                await _registration.WaitReadableAsync(cancellationToken);
                if (IsClosed) throw new ObjectDisposedException(Description);
                if (_receivedBytes > 0) return Take(buffer.Span);
                if (_errno != 0) throw SystemErrors.From("recv", _errno, Description);
                if (PeerFinished) return 0;
            }
        }
        finally
        {
            ReadPending = false;
        }
    }

    private int Take(Span<byte> buffer)
    {
        int taken = 0;
        while (taken < buffer.Length && _receivedFirst is { } chunk)
        {
            int n = Math.Min(buffer.Length - taken, chunk.Length - _receivedOffset);
            chunk.AsSpan(_receivedOffset, n).CopyTo(buffer[taken..]);
            taken += n;
            _receivedOffset += n;
            if (_receivedOffset == chunk.Length)
            {
                _receivedFirst = _rare?.ReceivedLater is { Count: > 0 } later ? later.Dequeue() : null;
                _receivedOffset = 0;
            }
        }
        _receivedBytes -= taken;
        _peer?.OnPeerRead(taken);
        return taken;
    }

    /// <summary>The peer's application read <paramref name="count"/> of this side's bytes: room for the writer.</summary>
    private void OnPeerRead(int count)
    {
        _unreadAtPeer -= count;
        if (!IsClosed) _registration.OnReady(readable: false, writable: true);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (IsClosed) return ValueTask.FromException(new ObjectDisposedException(Description));
        if (WritePending) throw new InvalidOperationException($"A write is already in progress on {Description}; one writer at a time.");
        while (!data.IsEmpty)
        {
            if (WriteError() is { } error) return ValueTask.FromException(error);
            int room = Network.Options.SendBufferSize - _unreadAtPeer;
            if (room <= 0) return WriteSlowAsync(data, cancellationToken);
            data = data[SendData(data.Span[..Math.Min(room, data.Length)])..];
        }
        return ValueTask.CompletedTask;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteSlowAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        WritePending = true;
        try
        {
            while (!data.IsEmpty)
            {
                int room = Network.Options.SendBufferSize - _unreadAtPeer;
                if (room <= 0)
                {
                    await _registration.WaitWritableAsync(cancellationToken);
                    if (IsClosed) throw new ObjectDisposedException(Description);
                    if (WriteError() is { } error) throw error;
                    continue;
                }
                data = data[SendData(data.Span[..Math.Min(room, data.Length)])..];
            }
        }
        finally
        {
            WritePending = false;
        }
    }

    private SystemCallException? WriteError() =>
        _errno != 0 ? SystemErrors.From("send", _errno, Description)
        : WriteShut ? SystemErrors.From("send", Errno.EPIPE, Description)
        : null;

    private int SendData(ReadOnlySpan<byte> data)
    {
        _unreadAtPeer += data.Length;
        SendSequenced(SegmentKind.Data, data.ToArray());
        return data.Length;
    }

    private void SendSequenced(SegmentKind kind, byte[]? data) =>
        StreamSegment.Send(Network, kind, this, _peer, Host, _peerHost, _nextSendSequence++, data);

    private void SendReset(SimulatedSocketStream to)
    {
        SentReset = true;
        StreamSegment.Send(Network, SegmentKind.Reset, this, to, Host, to.Host, 0, null);
    }

    public override void ShutdownWrite()
    {
        if (IsClosed || WriteShut) return;
        WriteShut = true;
        if (Connected && _errno == 0) SendSequenced(SegmentKind.Fin, null);
    }

    public override ValueTask CloseAsync()
    {
        if (IsClosed) return ValueTask.CompletedTask;
        IsClosed = true;
        if (!Connected) IsAbandoned = true;
        else if (_errno == 0 && _peer is not null)
        {
            // Unread input makes a close a reset (as Linux does); otherwise the peer reads an end of stream.
            if (_receivedBytes > 0) SendReset(_peer);
            else if (!WriteShut) SendSequenced(SegmentKind.Fin, null);
        }
        WriteShut = true;
        ClearReceived();
        _receivedBytes = 0;
        _registration.Dispose();
        Host.Resources.Remove(this);
        return ValueTask.CompletedTask;
    }

    public void Crash()
    {
        if (IsClosed) return;
        if (_peer is not null && _errno == 0) SendReset(_peer);
        _errno = Errno.ECONNRESET;
        IsAbandoned = true;
        _ = CloseAsync();
    }

    internal void OnSynAck(SimulatedSocketStream server)
    {
        _peer = server;
        if (IsClosed)
        {
            SendReset(server); // the attempt was abandoned meanwhile
            return;
        }
        Connected = true;
        _registration.OnReady(readable: false, writable: true);
    }

    internal void OnSequenced(StreamSegment segment)
    {
        _peer ??= segment.Source;
        if (segment.Sequence != _nextReceiveSequence)
        {
            if (((_rare ??= new()).OutOfOrder ??= new()).TryAdd(segment.Sequence, segment)) segment.Keep(); // waits for the ones before it
            return;
        }
        Apply(segment);
        while (_rare?.OutOfOrder is { } outOfOrder && outOfOrder.Remove(_nextReceiveSequence, out var next))
        {
            Apply(next);
            next.Free(); // kept since its delivery
        }
    }

    private void Apply(StreamSegment segment)
    {
        _nextReceiveSequence++;
        if (segment.Kind == SegmentKind.Fin)
        {
            PeerFinished = true;
            if (!IsClosed) _registration.OnReady(readable: true, writable: false);
            return;
        }
        if (IsClosed)
        {
            // Data for a socket nobody will read: the kernel answers with a reset.
            if (!SentReset && !IsAbandoned) SendReset(segment.Source!);
            segment.Source!.OnPeerRead(segment.Data!.Length);
            return;
        }
        if (_errno != 0) return;
        if (_receivedFirst is null) _receivedFirst = segment.Data!;
        else ((_rare ??= new()).ReceivedLater ??= new()).Enqueue(segment.Data!);
        _receivedBytes += segment.Data!.Length;
        _registration.OnReady(readable: true, writable: false);
    }

    private void ClearReceived()
    {
        _receivedFirst = null;
        _rare?.ReceivedLater?.Clear();
        _receivedOffset = 0;
    }

    internal void OnReset() => Fail(Errno.ECONNRESET);

    internal void OnRefused() => Fail(Errno.ECONNREFUSED);

    internal void OnTimedOut() => Fail(Errno.ETIMEDOUT);

    private void Fail(int errno)
    {
        if (_errno != 0 || IsClosed) return;
        _errno = errno;
        IsAbandoned = true;
        ClearReceived();
        _receivedBytes = 0;
        _registration.OnReady(readable: true, writable: true);
    }

    private bool Has(State flag) => (_state & flag) != 0;

    private void Set(State flag, bool value) => _state = value ? _state | flag : _state & ~flag;

    [Flags]
    private enum State : ushort
    {
        Connected = 1,
        PeerFinished = 2,
        WriteShut = 4,
        SentReset = 8,
        Pipe = 16,
        ReadPending = 32,
        WritePending = 64,
        Closed = 128,
        Abandoned = 256,
    }

    private sealed class Rare
    {
        public Queue<byte[]>? ReceivedLater;
        public Dictionary<long, StreamSegment>? OutOfOrder; // by sequence number: the next one in order is found by key
    }
}
