namespace Meanwhile.Http.Client;

/// <summary>
/// The connections to one origin (scheme, host, port): idle ones to reuse, a limit on how many are open, and a queue
/// of requests waiting for one. Loop thread only, except that a waiter's cancellation may come from anywhere.
/// </summary>
internal sealed class OriginPool
{
    private readonly Stack<ClientConnection> _idle = new();
    // The open connections in the order they opened, linked through the connections themselves (no node object per
    // connection: a client with ten thousand open pays for none); a close unlinks in O(1).
    private ClientConnection? _firstOpen;
    private ClientConnection? _lastOpen;
    private readonly Queue<Waiter> _waiters = new();
    private readonly int _maxConnections;
    private readonly int _maxPipelineDepth;
    private int _slots; // open connections plus connections being opened

    public OriginPool(ClientContext context, Uri uri)
    {
        Context = context;
        IsHttps = uri.Scheme == Uri.UriSchemeHttps;
        Host = uri.DnsSafeHost;
        TlsHost = uri.IdnHost;
        Port = uri.Port;
        Address = System.Net.IPAddress.TryParse(Host, out var literal) ? new System.Net.IPEndPoint(literal, Port) : null;
        HostHeader = System.Text.Encoding.ASCII.GetBytes(uri.IsDefaultPort ? uri.IdnHost : $"{uri.IdnHost}:{uri.Port}");
        _maxConnections = context.Options.MaxConnectionsPerOrigin;
        _maxPipelineDepth = context.Options.MaxPipelineDepth;
    }

    public ClientContext Context { get; }

    public bool IsHttps { get; }

    /// <summary>The host to connect to (IPv6 without brackets).</summary>
    public string Host { get; }

    /// <summary>The name sent in TLS SNI and checked against the certificate.</summary>
    public string TlsHost { get; }

    public int Port { get; }

    /// <summary>Where to connect when the host is an address (parsed once, not per connection); null for a name.</summary>
    public System.Net.IPEndPoint? Address { get; }

    /// <summary>The Host field value, as bytes.</summary>
    public byte[] HostHeader { get; }

    /// <summary>Connections open (or opening) now.</summary>
    public int OpenCount => _slots;

    /// <summary>
    /// A connection to use (its <see cref="ClientConnection.InFlight"/> already counts the caller), or null when the
    /// caller has been given a slot and must open a new connection, then call <see cref="Connected"/> or <see cref="ConnectFailed"/>.
    /// </summary>
    public ValueTask<ClientConnection?> AcquireAsync(bool pipelinable, IExchangeWaits exchange)
    {
        if (_waiters.Count == 0)
        {
            if (TryTake(pipelinable, out var connection))
            {
                return new(connection);
            }

            if (_slots < _maxConnections)
            {
                _slots++;
                return new((ClientConnection?)null);
            }
        }

        var token = exchange.WaitToken;
        var waiter = new Waiter(new TaskCompletionSource<ClientConnection?>(TaskCreationOptions.RunContinuationsAsynchronously), pipelinable);
        if (token.CanBeCanceled)
        {
            token.UnsafeRegister(static state => ((TaskCompletionSource<ClientConnection?>)state!).TrySetCanceled(), waiter.Turn);
        }

        _waiters.Enqueue(waiter);
        return new(waiter.Turn.Task);
    }

    /// <summary>An idle connection for a request that will use it alone (the fast path), or null; never waits, never opens one.</summary>
    public ClientConnection? TryTakeIdle()
    {
        if (_waiters.Count == 0)
        {
            while (_idle.TryPop(out var connection))
            {
                if (!connection.IsBroken)
                {
                    connection.InFlight++;
                    return connection;
                }
            }
        }

        return null;
    }

    /// <summary>A slot for a new connection when one is free and nobody waits (the caller opens it, then <see cref="Connected"/> or <see cref="ConnectFailed"/>).</summary>
    public bool TryTakeSlot()
    {
        if (_waiters.Count == 0 && _slots < _maxConnections)
        {
            _slots++;
            return true;
        }

        return false;
    }

    public void Connected(ClientConnection connection)
    {
        connection.InFlight = 1;
        connection.IsOpen = true;
        connection.PreviousOpen = _lastOpen;
        if (_lastOpen is null) _firstOpen = connection;
        else _lastOpen.NextOpen = connection;
        _lastOpen = connection;
        ClientMetrics.Connections.Add(1);
        ClientMetrics.OpenConnections.Add(1);
    }

    public void ConnectFailed()
    {
        _slots--;
        ServeWaiters();
    }

    /// <summary>A response on <paramref name="connection"/> was released (it may have been closed meanwhile).</summary>
    public void Returned(ClientConnection connection)
    {
        if (!connection.IsBroken && connection.InFlight == 0)
        {
            _idle.Push(connection);
        }

        ServeWaiters();
    }

    /// <summary><paramref name="connection"/> was closed: its slot is free.</summary>
    public void Closed(ClientConnection connection)
    {
        if (connection.IsOpen)
        {
            var (previous, next) = (connection.PreviousOpen, connection.NextOpen);
            if (previous is null) _firstOpen = next;
            else previous.NextOpen = next;
            if (next is null) _lastOpen = previous;
            else next.PreviousOpen = previous;
            connection.IsOpen = false;
            connection.PreviousOpen = connection.NextOpen = null;
            _slots--;
            ClientMetrics.OpenConnections.Add(-1);
        }

        ServeWaiters();
    }

    /// <summary>Closes every idle connection (busy ones close when their responses are released).</summary>
    public void CloseIdle()
    {
        while (_idle.TryPop(out var connection))
        {
            connection.Abort();
        }
    }

    private bool TryTake(bool pipelinable, out ClientConnection connection)
    {
        while (_idle.TryPop(out connection!))
        {
            if (!connection.IsBroken)
            {
                connection.InFlight++;
                return true;
            }
        }

        // Pipeline only once every allowed connection is open: separate connections do not wait on each other.
        if (pipelinable && _maxPipelineDepth > 1 && _slots >= _maxConnections)
        {
            ClientConnection? best = null;
            for (var candidate = _firstOpen; candidate is not null; candidate = candidate.NextOpen)
            {
                if (!candidate.IsBroken && candidate.InFlight < _maxPipelineDepth && (best is null || candidate.InFlight < best.InFlight))
                {
                    best = candidate;
                }
            }

            if (best is not null)
            {
                best.InFlight++;
                connection = best;
                return true;
            }
        }

        connection = null!;
        return false;
    }

    private void ServeWaiters()
    {
        while (_waiters.TryPeek(out var waiter))
        {
            if (waiter.Turn.Task.IsCompleted)
            {
                _waiters.Dequeue(); // cancelled
                continue;
            }

            if (TryTake(waiter.Pipelinable, out var connection))
            {
                _waiters.Dequeue();
                if (!waiter.Turn.TrySetResult(connection))
                {
                    connection.InFlight--;
                    if (connection.InFlight == 0)
                    {
                        _idle.Push(connection);
                    }
                }

                continue;
            }

            if (_slots < _maxConnections)
            {
                _waiters.Dequeue();
                _slots++;
                if (!waiter.Turn.TrySetResult(null))
                {
                    _slots--;
                }

                continue;
            }

            return;
        }
    }

    private readonly record struct Waiter(TaskCompletionSource<ClientConnection?> Turn, bool Pipelinable);
}
