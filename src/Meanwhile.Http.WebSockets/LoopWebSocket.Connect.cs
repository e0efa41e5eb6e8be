using System.Net.Security;
using System.Security.Cryptography;
using System.Text;

namespace Meanwhile.Http.WebSockets;

/// <summary>The client's side of the opening handshake (RFC 6455 4.1): connect, TLS for wss://, the upgrade request, the 101 checked.</summary>
public sealed partial class LoopWebSocket
{
    /// <summary>Opens a WebSocket to <paramref name="uri"/> (ws:// or wss://) on the current loop.</summary>
    /// <param name="uri">Where: <c>ws://host[:port]/path?query</c> or <c>wss://...</c>.</param>
    /// <param name="options">Subprotocols to offer, extra request headers, limits, timeouts, certificate checks; null for the defaults.</param>
    /// <param name="cancellationToken">Abandons the attempt.</param>
    /// <returns>The open WebSocket.</returns>
    /// <exception cref="LoopWebSocketException">The server refused the handshake (<see cref="LoopWebSocketException.HandshakeStatusCode"/>) or answered it wrongly.</exception>
    /// <exception cref="TimeoutException">Connecting, TLS and the handshake took longer than <see cref="LoopWebSocketOptions.HandshakeTimeout"/>.</exception>
    public static async ValueTask<LoopWebSocket> ConnectAsync(Uri uri, LoopWebSocketOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri || uri.Scheme is not ("ws" or "wss")) throw new ArgumentException($"A WebSocket URI is ws:// or wss://, not '{uri}'.", nameof(uri));
        options ??= LoopWebSocketOptions.Default;
        var loop = EventLoop.Current;
        using var deadline = new CancellationTokenSource();
        var timer = loop.CallLater(options.HandshakeTimeout, deadline.Cancel);
        using var linked = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), deadline);
        try
        {
            return await OpenAsync(uri, options, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The WebSocket handshake with {uri} did not complete within {options.HandshakeTimeout.TotalSeconds:0.###} s.");
        }
        finally
        {
            timer.Cancel();
        }
    }

    /// <summary>Opens a WebSocket to <paramref name="uri"/> (ws:// or wss://) on the current loop.</summary>
    /// <param name="uri">Where.</param>
    /// <param name="options">Null for the defaults.</param>
    /// <param name="cancellationToken">Abandons the attempt.</param>
    /// <returns>The open WebSocket.</returns>
    public static ValueTask<LoopWebSocket> ConnectAsync(string uri, LoopWebSocketOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(new Uri(uri, UriKind.Absolute), options, cancellationToken);

    private static async ValueTask<LoopWebSocket> OpenAsync(Uri uri, LoopWebSocketOptions options, CancellationToken token)
    {
        var socket = await SocketStream.ConnectAsync(uri.DnsSafeHost, uri.Port, null, token);
        SslStream? tls = null;
        try
        {
            if (uri.Scheme == "wss")
            {
                tls = new SslStream(socket.AsStream(), leaveInnerStreamOpen: true);
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = uri.IdnHost,
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                    RemoteCertificateValidationCallback = options.ServerCertificateValidation,
                }, token);
            }
            var transport = new ClientTransport(socket, tls);
            string key = NewKey();
            var head = new PooledByteBuffer(512);
            try
            {
                WriteRequest(head, uri, key, options);
                await transport.WriteAsync(head.WrittenMemory, token);
            }
            finally
            {
                head.Release();
            }
            return await ReadResponseAsync(transport, uri, key, options, token);
        }
        catch
        {
            if (tls is not null) await tls.DisposeAsync();
            await socket.DisposeAsync();
            throw;
        }
    }

    private static void WriteRequest(PooledByteBuffer head, Uri uri, string key, LoopWebSocketOptions options)
    {
        HttpHeadWriter.WriteRequestLine(head, "GET"u8, Encoding.ASCII.GetBytes(uri.PathAndQuery), HttpProtocolVersion.Http11);
        HttpHeadWriter.WriteField(head, "Host", uri.IsDefaultPort ? uri.IdnHost : $"{uri.IdnHost}:{uri.Port}");
        HttpHeadWriter.WriteField(head, "Upgrade", "websocket");
        HttpHeadWriter.WriteField(head, "Connection", "Upgrade");
        HttpHeadWriter.WriteField(head, "Sec-WebSocket-Key", key);
        HttpHeadWriter.WriteField(head, "Sec-WebSocket-Version", "13");
        if (options.SubProtocols.Count > 0) HttpHeadWriter.WriteField(head, "Sec-WebSocket-Protocol", string.Join(", ", options.SubProtocols));
        if (options.Compression is { } compression) HttpHeadWriter.WriteField(head, "Sec-WebSocket-Extensions", DeflateNegotiation.Offer(compression));
        foreach (var (name, value) in options.RequestHeaders) HttpHeadWriter.WriteField(head, name, value);
        HttpHeadWriter.WriteEndOfHead(head);
    }

    private static async ValueTask<LoopWebSocket> ReadResponseAsync(ClientTransport transport, Uri uri, string key, LoopWebSocketOptions options, CancellationToken token)
    {
        using var parser = new HttpResponseParser();
        parser.SetRequestMethod("GET"u8);
        var input = new HttpInputReader(parser, 4096);
        try
        {
            while (true)
            {
                if (input.Buffered == 0 && !input.IsEndOfInput) input.Advance(await transport.ReadAsync(input.GetReadMemory(), token));
                var status = input.Parse();
                if (status == HttpParseStatus.NeedMoreData) continue;
                if (status != HttpParseStatus.HeadComplete)
                {
                    string why = status == HttpParseStatus.Error ? parser.Error.ToString() : "the connection closed";
                    throw new LoopWebSocketException(0, $"No valid answer to the WebSocket handshake from {uri}: {why}.");
                }
                var (subProtocol, deflate) = CheckResponse(parser.Head, uri, key, options);
                string? extensions = deflate is null ? null : string.Join(", ", Handshake.ListItems(parser.Head.Fields, "Sec-WebSocket-Extensions"u8));
                return new LoopWebSocket(transport, false, subProtocol, options, input.Unparsed, deflate, extensions);
            }
        }
        finally
        {
            input.Release();
        }
    }

    /// <summary>Checks the server's answer (RFC 6455 4.1, the client's checks); returns the subprotocol and the compression it chose.</summary>
    private static (string? SubProtocol, DeflateSettings? Deflate) CheckResponse(HttpResponseHead head, Uri uri, string key, LoopWebSocketOptions options)
    {
        if (head.StatusCode != 101)
            throw new LoopWebSocketException(head.StatusCode, $"{uri} answered the WebSocket handshake with {head.StatusCode} {Encoding.Latin1.GetString(head.ReasonPhrase)}.");
        var fields = head.Fields;
        string? fault = null;
        if (!Handshake.AnyListContains(fields, "Upgrade"u8, "websocket"u8)) fault = "no 'Upgrade: websocket'";
        else if (!head.ConnectionUpgrade) fault = "no 'Connection: Upgrade'";
        else if (!fields.TryGetValue("Sec-WebSocket-Accept"u8, out var accept) || !accept.SequenceEqual(Encoding.ASCII.GetBytes(Handshake.AcceptFor(Encoding.ASCII.GetBytes(key)))))
            fault = "a wrong Sec-WebSocket-Accept";
        DeflateSettings? deflate = fault is null ? DeflateNegotiation.CheckAnswer(fields, options.Compression, out fault) : null;
        if (fault is not null) throw new LoopWebSocketException(101, $"{uri} accepted the WebSocket handshake with {fault}.");
        var chosen = Handshake.ListItems(fields, "Sec-WebSocket-Protocol"u8);
        if (chosen.Count == 0) return (null, deflate);
        if (chosen.Count > 1 || !options.SubProtocols.Contains(chosen[0], StringComparer.Ordinal))
            throw new LoopWebSocketException(101, $"{uri} chose the subprotocol '{string.Join(", ", chosen)}', which was not offered.");
        return (chosen[0], deflate);
    }

    private static string NewKey()
    {
        Span<byte> nonce = stackalloc byte[16];
        RandomNumberGenerator.Fill(nonce);
        return Convert.ToBase64String(nonce);
    }
}
