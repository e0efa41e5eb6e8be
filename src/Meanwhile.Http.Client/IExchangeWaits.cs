namespace Meanwhile.Http.Client;

/// <summary>
/// What the parts under an exchange (its connection, the origin's pool, a connection's turnstiles) need to know of it,
/// without knowing the exchange: a token for the waits that are not on a connection, and whether it is already over.
/// </summary>
internal interface IExchangeWaits
{
    /// <summary>Cancelled when the exchange ends (a timeout, the caller); made on first use, so an exchange that never waits makes none.</summary>
    CancellationToken WaitToken { get; }

    /// <summary>True once a timeout or the caller ended the exchange: a failure then is not a stale connection.</summary>
    bool Ended { get; }
}
