// Prototype for issue 17: HTTPS "Hello, World!" with OpenSSL (libssl.so.3) called directly on the socket's descriptor,
// on the Meanwhile loop, as nginx does; the loop only waits for readiness (a zero-byte read, WaitWritableAsync). It is
// the other avenue measured against SslStream (bench/server/tls.sh, DIRECT=path): a floor for what skipping SslStream
// could give. Not a product path: no SNI, ALPN, client certificates, reload, timeouts or HTTP parser (it answers each
// head ending in CRLFCRLF; "close" anywhere in it, or HTTP/1.0, closes after the answer).
//
//   OpenSslHello --port 8443 --tls-cert cert.pem --tls-key key.pem
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Meanwhile;

int port = 8443;
string? certificate = null, key = null;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--port": port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--tls-cert": certificate = Next(); break;
        case "--tls-key": key = Next(); break;
        case "--loops": Next(); break; // one loop, as tls.sh asks of every server
        default:
            Console.Error.WriteLine("usage: OpenSslHello --port N --tls-cert FILE --tls-key FILE");
            return 2;
    }
}
if (certificate is null || key is null)
{
    Console.Error.WriteLine("--tls-cert and --tls-key are required");
    return 2;
}

nint context = Ssl.SSL_CTX_new(Ssl.TLS_server_method());
if (Ssl.SSL_CTX_use_certificate_chain_file(context, certificate) != 1 || Ssl.SSL_CTX_use_PrivateKey_file(context, key, 1) != 1)
{
    Console.Error.WriteLine($"cannot load {certificate} and {key}");
    return 1;
}
Ssl.SSL_CTX_ctrl(context, Ssl.SSL_CTRL_SET_MIN_PROTO_VERSION, 0x0303, 0); // TLS 1.2 and 1.3; tickets are on by default

EventLoop.Run(async () =>
{
    await using var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Loopback, port));
    Console.WriteLine($"listening on https://127.0.0.1:{port} (OpenSSL on the descriptor)");
    var loop = EventLoop.Current;
    while (true)
    {
        var socket = await listener.AcceptAsync();
        _ = loop.Spawn(() => ServeAsync(socket, context));
    }
});
return 0;

static async Task ServeAsync(SocketStream socket, nint context)
{
    nint ssl = Ssl.SSL_new(context);
    try
    {
        Ssl.SSL_set_fd(ssl, socket.Descriptor);
        while (true)
        {
            int r = Ssl.SSL_accept(ssl);
            if (r == 1) break;
            if (!await WaitAsync(socket, ssl, r)) return;
        }
        var buffer = new byte[4096];
        int have = 0;
        while (true)
        {
            int n = Ssl.Read(ssl, buffer.AsSpan(have));
            if (n <= 0)
            {
                if (!await WaitAsync(socket, ssl, n)) return;
                continue;
            }
            have += n;
            int end = buffer.AsSpan(0, have).IndexOf("\r\n\r\n"u8);
            if (end < 0) continue;
            var head = buffer.AsSpan(0, end);
            bool close = head.IndexOf("close"u8) >= 0 || head.IndexOf("HTTP/1.0"u8) >= 0;
            var response = close ? Responses.Close : Responses.KeepAlive;
            int written;
            while ((written = Ssl.Write(ssl, response)) <= 0)
            {
                if (!await WaitAsync(socket, ssl, written)) return;
            }
            buffer.AsSpan(end + 4, have - end - 4).CopyTo(buffer);
            have -= end + 4;
            if (close)
            {
                Ssl.SSL_shutdown(ssl); // close_notify; the close follows at once, as nginx does
                return;
            }
        }
    }
    catch (Exception e) when (e is IOException or ObjectDisposedException)
    {
        // the client went away
    }
    finally
    {
        Ssl.SSL_free(ssl);
        await socket.DisposeAsync();
    }
}

// Waits for what OpenSSL asked for; false when the session is over (an error, or the peer closed).
static async ValueTask<bool> WaitAsync(SocketStream socket, nint ssl, int result)
{
    switch (Ssl.SSL_get_error(ssl, result))
    {
        case Ssl.SSL_ERROR_WANT_READ:
            await socket.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
            return true;
        case Ssl.SSL_ERROR_WANT_WRITE:
            await socket.WaitWritableAsync().ConfigureAwait(false);
            return true;
        default:
            Ssl.ERR_clear_error();
            return false;
    }
}

internal static class Responses
{
    public static readonly byte[] KeepAlive = "HTTP/1.1 200 OK\r\nServer: p\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"u8.ToArray();
    public static readonly byte[] Close = "HTTP/1.1 200 OK\r\nServer: p\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!"u8.ToArray();
}

internal static unsafe partial class Ssl
{
    private const string LibSsl = "libssl.so.3";
    private const string LibCrypto = "libcrypto.so.3";
    public const int SSL_CTRL_SET_MIN_PROTO_VERSION = 123;
    public const int SSL_ERROR_WANT_READ = 2;
    public const int SSL_ERROR_WANT_WRITE = 3;

    [LibraryImport(LibSsl)] public static partial nint TLS_server_method();
    [LibraryImport(LibSsl)] public static partial nint SSL_CTX_new(nint method);
    [LibraryImport(LibSsl, StringMarshalling = StringMarshalling.Utf8)] public static partial int SSL_CTX_use_certificate_chain_file(nint context, string file);
    [LibraryImport(LibSsl, StringMarshalling = StringMarshalling.Utf8)] public static partial int SSL_CTX_use_PrivateKey_file(nint context, string file, int type);
    [LibraryImport(LibSsl)] public static partial long SSL_CTX_ctrl(nint context, int command, long larg, nint parg);
    [LibraryImport(LibSsl)] public static partial nint SSL_new(nint context);
    [LibraryImport(LibSsl)] public static partial int SSL_set_fd(nint ssl, int fd);
    [LibraryImport(LibSsl)] public static partial int SSL_accept(nint ssl);
    [LibraryImport(LibSsl)] private static partial int SSL_read(nint ssl, byte* buffer, int count);
    [LibraryImport(LibSsl)] private static partial int SSL_write(nint ssl, byte* buffer, int count);
    [LibraryImport(LibSsl)] public static partial int SSL_get_error(nint ssl, int result);
    [LibraryImport(LibSsl)] public static partial int SSL_shutdown(nint ssl);
    [LibraryImport(LibSsl)] public static partial void SSL_free(nint ssl);
    [LibraryImport(LibCrypto)] public static partial void ERR_clear_error();

    public static int Read(nint ssl, Span<byte> buffer)
    {
        fixed (byte* p = buffer) return SSL_read(ssl, p, buffer.Length);
    }

    public static int Write(nint ssl, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data) return SSL_write(ssl, p, data.Length);
    }
}
