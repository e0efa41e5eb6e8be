using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Meanwhile;

/// <summary>
/// The SslStream engine of a <see cref="TlsStream"/>: SslStream's reads and writes, the TLS close before the TCP one, and the
/// socket's close. SslStream refuses a second concurrent read or write itself, so DataStream adds no wrapper.
/// </summary>
internal sealed class TlsLayer(SocketStream socket, SslStream ssl, TlsHandshakeProbe input) : TlsSessionLayer
{
    private bool _closeNotifySent;

    public override SocketStream Socket => socket;

    public override SslApplicationProtocol NegotiatedApplicationProtocol => ssl.NegotiatedApplicationProtocol;

    public override SslProtocols Protocol => ssl.SslProtocol;

    public override TlsCipherSuite CipherSuite => ssl.NegotiatedCipherSuite;

    public override string HostName => ssl.TargetHostName;

    public override X509Certificate? RemoteCertificate => ssl.RemoteCertificate;

    public override string Description => "tls " + socket.Description;

    public override bool GuardsConcurrentOperations => true;

    // SslStream's own value tasks: they complete on the loop thread, inline after the socket's (see TlsStream).
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => ssl.ReadAsync(buffer, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => ssl.WriteAsync(data, cancellationToken);

    /// <summary>Sends close_notify, then the FIN once the alert is out (at once, unless the socket is full).</summary>
    public override void ShutdownWrite()
    {
        Task notify;
        try
        {
            notify = SendCloseNotify();
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or IOException or ObjectDisposedException)
        {
            // A write in progress (an abort under a pending write) or a broken session: the FIN alone must do.
            socket.ShutdownWrite();
            return;
        }
        if (notify.IsCompleted)
        {
            _ = notify.Exception;
            if (!socket.IsClosed) socket.ShutdownWrite();
        }
        else _ = FinishShutdownAsync(notify);
    }

    private async Task FinishShutdownAsync(Task notify)
    {
        try { await notify; }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException) { }
        if (!socket.IsClosed) socket.ShutdownWrite();
    }

    private Task SendCloseNotify()
    {
        if (_closeNotifySent) return Task.CompletedTask;
        _closeNotifySent = true;
        return ssl.ShutdownAsync();
    }

    /// <summary>Frees the session, then closes the socket (pending reads and writes end with ObjectDisposedException).</summary>
    public override ValueTask CloseAsync()
    {
        input.DropHeld(); // session tickets never sent: the connection closed before its first response
        ssl.Dispose();
        return socket.DisposeAsync();
    }
}
