namespace Meanwhile.Http.Server;

/// <summary>
/// Runs a connection after its switch to another protocol (<see cref="ServerResponse.Upgrade"/>): it owns the connection
/// until the returned task completes, and the server closes the connection then.
/// </summary>
/// <param name="connection">The connection, past the <c>101 Switching Protocols</c> response.</param>
/// <returns>Completes when the protocol is done with the connection.</returns>
public delegate ValueTask UpgradeHandler(UpgradedConnection connection);
