namespace Meanwhile.Http;

/// <summary>
/// The labels the server and the client record with <c>loop.Recorder.Mark</c> at each step of an exchange, when
/// recording is on: the steps of the seed chapter's diagram (connect, accept, request, response). Tools that draw
/// timelines from a recording (<c>meanwhile demo</c>) read them back by these names, so they are written once, here.
/// </summary>
public static class HttpMarks
{
    /// <summary>Client: a new connection is being opened.</summary>
    public const string Connect = "http.connect";

    /// <summary>Client: the connection is open (TCP, and TLS for https).</summary>
    public const string Connected = "http.connected";

    /// <summary>Client: the request head (and any body) is with the kernel.</summary>
    public const string RequestSent = "http.request-sent";

    /// <summary>Client: the final response head has arrived.</summary>
    public const string ResponseReceived = "http.response-received";

    /// <summary>Server: a connection was accepted (recorded by the connection's own task).</summary>
    public const string ConnectionAccepted = "http.connection-accepted";

    /// <summary>Server: a request head was parsed and goes to the handler.</summary>
    public const string RequestReceived = "http.request-received";

    /// <summary>Server: response bytes were handed to the kernel.</summary>
    public const string ResponseSent = "http.response-sent";
}
