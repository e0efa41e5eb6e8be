namespace Meanwhile.Http.Server;

/// <summary>
/// Answers one request. It runs on the loop thread that read the request, so it needs no locks; it may await
/// (I/O, timers, other loop tasks) and the connection waits for it, since responses go out in request order.
/// </summary>
/// <param name="request">The request: head, body, route values; valid until the returned task completes.</param>
/// <param name="response">Where the answer goes: status, headers, body.</param>
/// <returns>Completes when the response is written; what was buffered is then sent.</returns>
public delegate ValueTask RequestHandler(ServerRequest request, ServerResponse response);
