using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Meanwhile.Tests;

/// <summary>Meanwhile against programs not written here: python3 and socat, as servers and as clients.</summary>
public class RealPeerTests
{
    private const long Size = 16L << 20;
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(10);

    // A threaded python3 TCP echo server on an ephemeral port; prints the port, echoes until each client closes.
    private const string PythonEchoServer = """
        import socket, sys, threading
        server = socket.create_server(("127.0.0.1", 0))
        print("port", server.getsockname()[1], flush=True)
        def echo(conn):
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data)
        while True:
            conn, _ = server.accept()
            threading.Thread(target=echo, args=(conn,), daemon=True).start()
        """;

    // A python3 TCP client: sends seeded random data in random chunks from one thread while another reads the echo,
    // then prints the SHA-256 of both sides.
    private const string PythonClient = """
        import hashlib, random, socket, sys, threading
        port, total = int(sys.argv[1]), int(sys.argv[2])
        conn = socket.create_connection(("127.0.0.1", port))
        sent_hash, received_hash = hashlib.sha256(), hashlib.sha256()
        def send():
            rnd, left = random.Random(7), total
            while left:
                chunk = rnd.randbytes(min(left, rnd.randint(1, 100000)))
                sent_hash.update(chunk)
                conn.sendall(chunk)
                left -= len(chunk)
            conn.shutdown(socket.SHUT_WR)
        writer = threading.Thread(target=send)
        writer.start()
        received = 0
        while data := conn.recv(65536):
            received_hash.update(data)
            received += len(data)
        writer.join()
        print("sent", sent_hash.hexdigest(), "received", received_hash.hexdigest(), received, flush=True)
        """;

    [Fact]
    public void A_Meanwhile_client_echoes_random_data_through_a_python3_server_intact()
    {
        using var server = PeerProcess.Python(PythonEchoServer);
        int port = int.Parse(server.WaitFor(@"^port (\d+)$", StartLimit).Groups[1].Value);
        Loops.Run(async loop =>
        {
            await using var client = await SocketStream.ConnectAsync("127.0.0.1", port);
            await TcpStreamTests.PumpAndCompare(loop, client, Size, seed: 11);
        });
    }

    [Fact]
    public void A_python3_client_echoes_random_data_through_a_Meanwhile_server_intact()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0));
            var echo = loop.Spawn(async () =>
            {
                await using var connection = await listener.AcceptAsync();
                await TcpStreamTests.Echo(connection, new Random(12));
            }, "echo server");
            using var client = PeerProcess.Python(PythonClient, listener.Port.ToString(), Size.ToString());
            var result = await loop.RunOnWorker(() => client.WaitFor(@"^sent (\w+) received (\w+) (\d+)$", TimeSpan.FromSeconds(25)));
            Assert.Equal(result.Groups[1].Value, result.Groups[2].Value);
            Assert.Equal(Size.ToString(), result.Groups[3].Value);
            await echo;
        });
    }

    [Fact]
    public void A_Meanwhile_client_echoes_random_data_through_socat_over_TCP()
    {
        using var socat = PeerProcess.Start("socat", "-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1,reuseaddr", "EXEC:cat");
        int port = int.Parse(socat.WaitFor(@"listening on AF=2 127\.0\.0\.1:(\d+)", StartLimit).Groups[1].Value);
        Loops.Run(async loop =>
        {
            await using var client = await SocketStream.ConnectAsync("127.0.0.1", port);
            await TcpStreamTests.PumpAndCompare(loop, client, Size, seed: 13);
        });
    }

    [Fact]
    public void A_Meanwhile_client_echoes_random_data_through_socat_over_a_Unix_socket()
    {
        var path = Path.Combine(Path.GetTempPath(), $"meanwhile-socat-{Guid.NewGuid():N}.sock");
        try
        {
            using var socat = PeerProcess.Start("socat", "-d", "-d", $"UNIX-LISTEN:{path}", "EXEC:cat");
            socat.WaitFor("listening on AF=1", StartLimit);
            Loops.Run(async loop =>
            {
                await using var client = await SocketStream.ConnectUnixAsync(path);
                await TcpStreamTests.PumpAndCompare(loop, client, Size, seed: 14);
            });
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_socat_client_on_a_Meanwhile_Unix_listener_echoes_what_the_server_sends()
    {
        var path = Path.Combine(Path.GetTempPath(), $"meanwhile-{Guid.NewGuid():N}.sock");
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenUnix(path);
            // socat connects to us and plays cat: what the server writes comes back, so the server checks it all.
            using var socat = PeerProcess.Start("socat", $"UNIX-CONNECT:{path}", "EXEC:cat");
            await using var connection = await listener.AcceptAsync();
            await TcpStreamTests.PumpAndCompare(loop, connection, Size, seed: 15);
        });
    }

    [Fact]
    public void Datagrams_come_back_from_a_socat_UDP_peer_over_IPv4_and_IPv6()
    {
        foreach (var (loopback, family) in new[] { (IPAddress.Loopback, "UDP4"), (IPAddress.IPv6Loopback, "UDP6") })
        {
            if (loopback.AddressFamily == AddressFamily.InterNetworkV6 && !Socket.OSSupportsIPv6) continue;
            Loops.Run(async loop =>
            {
                await using var socket = DatagramSocket.Bind(new IPEndPoint(loopback, 0));
                string host = loopback.AddressFamily == AddressFamily.InterNetworkV6 ? "[::1]" : "127.0.0.1";
                // socat connects a UDP socket to ours and relays through cat; -d -d makes it print its own port.
                using var socat = PeerProcess.Start("socat", "-d", "-d", $"{family}-CONNECT:{host}:{socket.LocalEndPoint!.Port},bind={host}", "EXEC:cat");
                var local = await loop.RunOnWorker(() => socat.WaitFor(@"successfully connected from local address AF=\d+ (\S+):(\d+)", StartLimit));
                var peer = new IPEndPoint(loopback, int.Parse(local.Groups[2].Value));
                socket.Connect(peer);
                var buffer = new byte[8192];
                var random = new Random(16);
                // One at a time: cat is a byte stream, and socat would merge datagrams that wait in it together.
                for (int i = 0; i < 200; i++)
                {
                    var datagram = Encoding.ASCII.GetBytes($"{i}:{new string('x', random.Next(0, 4000))}");
                    await socket.SendAsync(datagram);
                    var reply = await loop.WithTimeout(TimeSpan.FromSeconds(10), async token => await socket.ReceiveFromAsync(buffer, token));
                    Assert.Equal(peer, reply.From);
                    Assert.Equal(datagram, buffer[..reply.Length]);
                }
            });
        }
    }
}
