using System.Net;
using System.Text;

namespace Meanwhile.Simulations.Tests;

/// <summary>Small host programs the tests run inside simulations.</summary>
internal static class Programs
{
    /// <summary>Echoes every connection on <paramref name="port"/> until its peer ends it; then ends its own side.</summary>
    public static Func<CancellationToken, Task> EchoServer(int port) => async cancellationToken =>
    {
        await using var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Any, port));
        var loop = EventLoop.Current;
        while (true)
        {
            var connection = await listener.AcceptAsync(cancellationToken);
            _ = loop.Spawn(async () =>
            {
                await using (connection)
                {
                    var buffer = new byte[4096];
                    int n;
                    try
                    {
                        while ((n = await connection.ReadAsync(buffer)) > 0) await connection.WriteAsync(buffer.AsMemory(0, n));
                        connection.ShutdownWrite();
                    }
                    catch (SystemCallException) { } // reset by a crash or a fault: the connection is over
                }
            }, "echo connection");
        }
    };

    /// <summary>Answers every datagram on <paramref name="port"/> with the same bytes.</summary>
    public static Func<CancellationToken, Task> UdpEcho(int port) => async cancellationToken =>
    {
        await using var socket = DatagramSocket.Bind(new IPEndPoint(IPAddress.Any, port));
        var buffer = new byte[2048];
        while (true)
        {
            var datagram = await socket.ReceiveFromAsync(buffer, cancellationToken);
            await socket.SendToAsync(buffer.AsMemory(0, datagram.Length), datagram.From, cancellationToken);
        }
    };

    /// <summary>Reads until the end of the stream.</summary>
    public static async Task<byte[]> ReadToEndAsync(DataStream stream)
    {
        var all = new MemoryStream();
        var buffer = new byte[4096];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0) all.Write(buffer, 0, n);
        return all.ToArray();
    }

    /// <summary>Sends <paramref name="text"/>, ends the output, and reads the answer to its end.</summary>
    public static async Task<string> ExchangeAsync(SocketStream connection, string text)
    {
        await connection.WriteAsync(Encoding.UTF8.GetBytes(text));
        connection.ShutdownWrite();
        return Encoding.UTF8.GetString(await ReadToEndAsync(connection));
    }
}
