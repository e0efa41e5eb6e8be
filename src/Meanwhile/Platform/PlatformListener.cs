using System.Net;

namespace Meanwhile;

/// <summary>The OS-specific half of a <see cref="StreamListener"/>.</summary>
internal abstract class PlatformListener
{
    public abstract EndPoint LocalEndPoint { get; }

    public abstract ValueTask<SocketStream> AcceptAsync(CancellationToken cancellationToken);

    public abstract ValueTask CloseAsync();
}

/// <summary>A stream transport over a connected socket, which knows its endpoints.</summary>
internal interface IConnectedSocket
{
    EndPoint? LocalEndPoint { get; }
    EndPoint? RemoteEndPoint { get; }
}
