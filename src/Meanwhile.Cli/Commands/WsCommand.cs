using System.CommandLine;
using System.Security.Authentication;
using Meanwhile.Http.WebSockets;

namespace Meanwhile.Cli;

/// <summary>
/// <c>meanwhile ws URL</c>, like websocat: lines from STDIN become text messages, received messages go to STDOUT one
/// per line, on the loop's own asynchronous standard streams; it exits with the meaning of the close code.
/// </summary>
internal static class WsCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var url = new Argument<string>("url") { Description = "A ws:// or wss:// URL" };
        var binary = new Option<bool>("--binary", "-b") { Description = "Send STDIN's bytes as binary messages (each read, up to 64 KiB, one message) and write received messages as raw bytes, without a newline" };
        var protocols = new Option<string[]>("--protocol") { Description = "Offer a subprotocol (repeat for several)", HelpName = "name", AllowMultipleArgumentsPerToken = false };
        var insecure = new Option<bool>("--insecure", "-k") { Description = "wss://: accept any server certificate" };
        var noCompression = new Option<bool>("--no-compression") { Description = "Do not offer permessage-deflate (offered by default)" };
        var command = new Command("ws", """
            A WebSocket client for the terminal. Each line of STDIN is sent as a text message (--binary: raw bytes);
            each message received is written to STDOUT, followed by a newline. At the end of STDIN it closes with 1000
            and waits for the server's close. Exits with 0 when the connection closed with 1000 or 1001, 1 for any
            other close code, a refused handshake or a connection that dropped without a close frame (the reason is
            written to STDERR).
            """)
        { url, binary, protocols, insecure, noCompression };
        command.Validators.Add(result =>
        {
            var given = result.GetValue(url);
            if (given is not null && ParseUrl(given) is null) result.AddError($"'{given}' is not a ws:// or wss:// URL.");
        });
        command.SetAction(parse =>
        {
            var options = new LoopWebSocketOptions
            {
                SubProtocols = parse.GetValue(protocols) ?? [],
                MaxMessageBytes = 64 * 1024 * 1024,
                ServerCertificateValidation = parse.GetValue(insecure) ? (_, _, _, _) => true : null,
                Compression = parse.GetValue(noCompression) ? null : PerMessageDeflateOptions.Default,
            };
            return EventLoop.Run(() => RunAsync(ParseUrl(parse.GetValue(url)!)!, parse.GetValue(binary), options));
        });
        return command;
    }

    private static Uri? ParseUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "ws" or "wss" ? uri : null;

    private static async Task<int> RunAsync(Uri uri, bool binary, LoopWebSocketOptions options)
    {
        LoopWebSocket socket;
        try
        {
            socket = await LoopWebSocket.ConnectAsync(uri, options);
        }
        catch (Exception e) when (e is LoopWebSocketException or SystemCallException or TimeoutException or AuthenticationException or IOException)
        {
            Terminal.Error($"{uri}: {e.Message}");
            return ExitCodes.Failure;
        }
        await using var _ = socket;
        await using var input = StandardStreams.OpenInput();
        await using var output = StandardStreams.OpenOutput();
        using var stopSending = new CancellationTokenSource();
        var sending = SendAllAsync(socket, input, binary, stopSending.Token);
        try
        {
            await ReceiveAllAsync(socket, output, binary);
        }
        catch (LoopWebSocketException e)
        {
            Terminal.Error($"{uri}: {e.Message}");
            return ExitCodes.Failure;
        }
        finally
        {
            stopSending.Cancel();
            try
            {
                await sending;
            }
            catch (Exception e) when (e is OperationCanceledException or LoopWebSocketException or InvalidOperationException or ObjectDisposedException)
            {
                // the connection ended while STDIN was read or a message sent
            }
        }
        var code = socket.CloseCode ?? WebSocketCloseCode.AbnormalClosure;
        if (code is WebSocketCloseCode.NormalClosure or WebSocketCloseCode.GoingAway) return ExitCodes.Success;
        Terminal.Error($"{uri}: closed with {(int)code} {code}{(string.IsNullOrEmpty(socket.CloseReason) ? "" : $": {socket.CloseReason}")}");
        return ExitCodes.Failure;
    }

    private static async Task ReceiveAllAsync(LoopWebSocket socket, DataStream output, bool binary)
    {
        var message = new Meanwhile.Http.PooledByteBuffer(4096);
        try
        {
            while (true)
            {
                message.Clear();
                var kind = await socket.ReceiveMessageAsync(message);
                if (kind == WebSocketMessageKind.Close) return;
                if (!binary) message.Write("\n"u8);
                await output.WriteAsync(message.WrittenMemory);
            }
        }
        finally
        {
            message.Release();
        }
    }

    /// <summary>Sends STDIN (lines, or raw reads with --binary) until its end, then closes with 1000.</summary>
    private static async Task SendAllAsync(LoopWebSocket socket, DataStream input, bool binary, CancellationToken stop)
    {
        var buffer = new byte[64 * 1024];
        var line = new Meanwhile.Http.PooledByteBuffer(256);
        try
        {
            while (true)
            {
                int n = await input.ReadAsync(buffer, stop);
                if (n == 0) break;
                if (binary)
                {
                    await socket.SendAsync(buffer.AsMemory(0, n), WebSocketMessageKind.Binary, true, stop);
                    continue;
                }
                var read = buffer.AsMemory(0, n);
                while (read.Span.IndexOf((byte)'\n') is var newline and >= 0)
                {
                    line.Write(read.Span[..newline]);
                    await SendLineAsync(socket, line, stop);
                    read = read[(newline + 1)..];
                }
                line.Write(read.Span);
            }
            if (line.Length > 0) await SendLineAsync(socket, line, stop);
            await socket.CloseOutputAsync(WebSocketCloseCode.NormalClosure, null, stop);
        }
        finally
        {
            line.Release();
        }
    }

    private static async Task SendLineAsync(LoopWebSocket socket, Meanwhile.Http.PooledByteBuffer line, CancellationToken stop)
    {
        int length = line.WrittenSpan.EndsWith("\r"u8) ? line.Length - 1 : line.Length;
        await socket.SendAsync(line.WrittenMemory[..length], WebSocketMessageKind.Text, true, stop);
        line.Clear();
    }
}
