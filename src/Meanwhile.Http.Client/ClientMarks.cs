namespace Meanwhile.Http.Client;

/// <summary>
/// The labels the client records with <c>loop.Recorder.Mark</c> at each step of an exchange, when recording is on:
/// its half of the seed chapter's diagram (connect, request, response). Tools that draw timelines from a recording
/// (<c>meanwhile demo</c>) read them back by these names; the server's half is <c>Meanwhile.Http.Server.ServerMarks</c>.
/// </summary>
public static class ClientMarks
{
    /// <summary>A new connection is being opened.</summary>
    public const string Connect = "http.connect";

    /// <summary>The connection is open (TCP, and TLS for https).</summary>
    public const string Connected = "http.connected";

    /// <summary>The request head (and any body) is with the kernel.</summary>
    public const string RequestSent = "http.request-sent";

    /// <summary>The final response head has arrived.</summary>
    public const string ResponseReceived = "http.response-received";
}
