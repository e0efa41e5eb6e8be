namespace Meanwhile.Http.Server;

/// <summary>What a connection is waiting for; each phase has its own deadline, checked by the loop's heartbeat.</summary>
internal enum ConnectionPhase : byte
{
    /// <summary>Waiting for the first byte of a request (keep-alive timeout; head timeout for the first request).</summary>
    Idle,
    /// <summary>Part of a request head has arrived (head timeout, from its first byte).</summary>
    Head,
    /// <summary>A handler runs (no deadline: the application decides).</summary>
    Handler,
    /// <summary>The handler waits for request body bytes (minimum data rate).</summary>
    Body,
    /// <summary>Response bytes wait for room in the socket (write timeout).</summary>
    Write,
    /// <summary>After the last response, discarding what the client still sends before the close.</summary>
    Linger,
    /// <summary>The TLS handshake of an HTTPS connection (handshake timeout, from the accept).</summary>
    Handshake,
    /// <summary>Switched to another protocol (<see cref="UpgradedConnection"/>), which keeps its own deadlines.</summary>
    Upgraded,
    /// <summary>Closed.</summary>
    Closed,
}
