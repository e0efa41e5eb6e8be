namespace Meanwhile.Http.Proxy;

/// <summary>
/// One upstream as one loop sees it: where it is, its idle kept-alive connections, the requests in flight to it from
/// this loop, and its passive health (failures in a row; skipped until a time once they reach the limit). Each loop
/// keeps its own, as nginx's workers do: no locks, and one loop's view of a failing upstream is enough to skip it.
/// </summary>
internal sealed class Upstream(Uri uri, int index)
{
    private readonly List<UpstreamConnection> _idle = [];

    public int Index { get; } = index;

    public string Host { get; } = uri.IdnHost;

    public int Port { get; } = uri.Port;

    /// <summary>host[:port] as the Host field says it when the client's Host is not kept.</summary>
    public byte[] Authority { get; } = System.Text.Encoding.ASCII.GetBytes(uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}");

    /// <summary>For messages: the upstream as configured.</summary>
    public string Name { get; } = uri.GetLeftPart(UriPartial.Authority);

    /// <summary>Requests sent to it from this loop and not yet finished.</summary>
    public int Outstanding { get; set; }

    /// <summary>Failures in a row since the last success.</summary>
    public int Failures { get; private set; }

    /// <summary>Loop timestamp until which it is skipped; 0 when it is not.</summary>
    public long SkippedUntil { get; private set; }

    public int IdleCount => _idle.Count;

    public bool IsSkipped(long now) => SkippedUntil > now;

    public void Succeeded()
    {
        Failures = 0;
        SkippedUntil = 0;
    }

    /// <summary>Counts a failure; the <paramref name="maxFailures"/>-th in a row skips it until <paramref name="until"/>.</summary>
    public void Failed(int maxFailures, long until)
    {
        if (++Failures >= maxFailures)
        {
            SkippedUntil = until;
            Failures = 0;
            // Kept-alive connections to a failing server are suspect too.
            CloseIdle();
        }
    }

    /// <summary>The most recently used idle connection (the warmest), or null.</summary>
    public UpstreamConnection? TakeIdle()
    {
        if (_idle.Count == 0) return null;
        var connection = _idle[^1];
        _idle.RemoveAt(_idle.Count - 1);
        connection.IdleSlot = -1;
        connection.Unguard();
        return connection;
    }

    /// <summary>Keeps <paramref name="connection"/> for the next request, or closes it when <paramref name="max"/> are idle already.</summary>
    public void ReturnIdle(UpstreamConnection connection, int max, DeadlineQueue idleQueue)
    {
        if (_idle.Count >= max)
        {
            connection.Close();
            return;
        }
        connection.IdleSlot = _idle.Count;
        _idle.Add(connection);
        connection.Guard(idleQueue, UpstreamWait.Idle);
    }

    /// <summary>Forgets an idle connection whose idle time ran out (swap-remove).</summary>
    public void RemoveIdle(UpstreamConnection connection)
    {
        int slot = connection.IdleSlot;
        if (slot < 0 || slot >= _idle.Count || _idle[slot] != connection) return;
        var last = _idle[^1];
        _idle[slot] = last;
        last.IdleSlot = slot;
        _idle.RemoveAt(_idle.Count - 1);
        connection.IdleSlot = -1;
    }

    public void CloseIdle()
    {
        foreach (var connection in _idle)
        {
            connection.IdleSlot = -1;
            connection.Close();
        }
        _idle.Clear();
    }

    public override string ToString() => Name;
}
