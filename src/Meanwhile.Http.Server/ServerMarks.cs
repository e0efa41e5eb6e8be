namespace Meanwhile.Http.Server;

/// <summary>
/// The labels the server records with <c>loop.Recorder.Mark</c> at each step of a connection, when recording is on:
/// its half of the seed chapter's diagram (accept, request, response). Tools that draw timelines from a recording
/// (<c>meanwhile demo</c>) read them back by these names; the client's half is <c>Meanwhile.Http.Client.ClientMarks</c>.
/// </summary>
public static class ServerMarks
{
    /// <summary>A connection was accepted (recorded by the connection's own task).</summary>
    public const string ConnectionAccepted = "http.connection-accepted";

    /// <summary>A request head was parsed and goes to the handler.</summary>
    public const string RequestReceived = "http.request-received";

    /// <summary>Response bytes were handed to the kernel.</summary>
    public const string ResponseSent = "http.response-sent";
}
