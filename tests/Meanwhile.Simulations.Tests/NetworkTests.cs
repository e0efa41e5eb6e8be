using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Meanwhile.Simulations.Tests;

public class NetworkTests
{
    private static readonly SimulationOptions TenMilliseconds = new()
    {
        Link = new LinkOptions { Latency = LatencyDistribution.Fixed(TimeSpan.FromMilliseconds(10)) },
    };

    [Fact]
    public void Names_resolve_inside_and_a_round_trip_costs_the_links_latency()
    {
        var simulation = new Simulation(1, TenMilliseconds);
        simulation.AddHost("echo", Programs.EchoServer(7));
        var result = simulation.Run(async () =>
        {
            var loop = EventLoop.Current;
            long start = loop.Time.GetTimestamp();
            await using var connection = await SocketStream.ConnectAsync("echo", 7);
            Assert.Equal(TimeSpan.FromMilliseconds(20), loop.Time.GetElapsedTime(start)); // SYN and its answer
            Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 7), connection.RemoteEndPoint);
            await connection.WriteAsync("hello"u8.ToArray());
            var buffer = new byte[16];
            Assert.Equal(5, await connection.ReadAsync(buffer));
            Assert.Equal(TimeSpan.FromMilliseconds(40), loop.Time.GetElapsedTime(start));
            await Assert.ThrowsAsync<NameResolutionException>(() => SocketStream.ConnectAsync("nowhere", 7));
        });
        Assert.True(result.ClientCompleted);
    }

    [Fact]
    public void Connecting_where_nothing_listens_is_refused()
    {
        var simulation = new Simulation(2, TenMilliseconds);
        simulation.AddHost("quiet", async cancellationToken => await EventLoop.Current.Delay(TimeSpan.FromDays(1), cancellationToken));
        simulation.Run(async () =>
        {
            var error = await Assert.ThrowsAsync<ConnectionRefusedException>(() => SocketStream.ConnectAsync("quiet", 80));
            Assert.Contains("quiet", error.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void A_half_close_lets_the_other_side_finish_its_answer()
    {
        var simulation = new Simulation(3, TenMilliseconds);
        simulation.AddHost("upper", async cancellationToken =>
        {
            await using var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Any, 80));
            await using var connection = await listener.AcceptAsync(cancellationToken);
            string request = Encoding.ASCII.GetString(await Programs.ReadToEndAsync(connection)); // until the client's FIN
            await connection.WriteAsync(Encoding.ASCII.GetBytes(request.ToUpperInvariant()));
        });
        simulation.Run(async () =>
        {
            await using var connection = await SocketStream.ConnectAsync("upper", 80);
            Assert.Equal("SHOUT", await Programs.ExchangeAsync(connection, "shout"));
        });
    }

    [Fact]
    public void A_writer_waits_while_its_peer_does_not_read()
    {
        var simulation = new Simulation(4, new SimulationOptions { SendBufferSize = 64 * 1024 });
        simulation.AddHost("slow", async cancellationToken =>
        {
            await using var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Any, 80));
            await using var connection = await listener.AcceptAsync(cancellationToken);
            await EventLoop.Current.Delay(TimeSpan.FromSeconds(5), cancellationToken); // reads nothing for five seconds
            await Programs.ReadToEndAsync(connection);
        });
        simulation.Run(async () =>
        {
            var loop = EventLoop.Current;
            await using var connection = await SocketStream.ConnectAsync("slow", 80);
            long start = loop.Time.GetTimestamp();
            await connection.WriteAsync(new byte[64 * 1024]); // fits: no wait
            Assert.True(loop.Time.GetElapsedTime(start) < TimeSpan.FromMilliseconds(1));
            await connection.WriteAsync(new byte[1]); // the buffer is full until the peer reads
            Assert.True(loop.Time.GetElapsedTime(start) >= TimeSpan.FromSeconds(4.9));
        });
    }

    [Fact]
    public void A_second_read_or_write_while_one_waits_is_refused()
    {
        var simulation = new Simulation(4, new SimulationOptions { SendBufferSize = 1024 });
        simulation.AddHost("slow", async cancellationToken =>
        {
            await using var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Any, 80));
            await using var connection = await listener.AcceptAsync(cancellationToken);
            await EventLoop.Current.Delay(TimeSpan.FromSeconds(5), cancellationToken); // neither reads nor writes for five seconds
            await connection.WriteAsync("done"u8.ToArray(), cancellationToken);
            await Programs.ReadToEndAsync(connection);
        });
        var result = simulation.Run(async () =>
        {
            await using var connection = await SocketStream.ConnectAsync("slow", 80);
            await connection.WriteAsync(new byte[1024]); // fills the send buffer
            var writing = connection.WriteAsync(new byte[1]);
            Assert.False(writing.IsCompleted);
            var secondWrite = Record.Exception(() => connection.WriteAsync(new byte[1]));
            Assert.IsType<InvalidOperationException>(secondWrite);
            var waiting = connection.ReadAsync(Memory<byte>.Empty); // a zero-byte read: waits for data
            Assert.False(waiting.IsCompleted);
            var secondRead = Record.Exception(() => connection.ReadAsync(new byte[8]));
            Assert.IsType<InvalidOperationException>(secondRead);
            await writing;
            Assert.Equal(0, await waiting);
            var buffer = new byte[8];
            Assert.Equal("done", Encoding.ASCII.GetString(buffer, 0, await connection.ReadAsync(buffer)));
            connection.ShutdownWrite();
        });
        Assert.True(result.ClientCompleted);
    }

    [Fact]
    public void Bandwidth_paces_a_large_transfer()
    {
        var simulation = new Simulation(5, new SimulationOptions
        {
            Link = new LinkOptions { Latency = LatencyDistribution.Zero, BandwidthBytesPerSecond = 1_000_000 },
            SendBufferSize = 4 * 1024 * 1024,
        });
        simulation.AddHost("sink", async cancellationToken =>
        {
            await using var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Any, 80));
            await using var connection = await listener.AcceptAsync(cancellationToken);
            var all = await Programs.ReadToEndAsync(connection);
            await connection.WriteAsync(BitConverter.GetBytes(all.Length));
        });
        simulation.Run(async () =>
        {
            var loop = EventLoop.Current;
            await using var connection = await SocketStream.ConnectAsync("sink", 80);
            long start = loop.Time.GetTimestamp();
            await connection.WriteAsync(new byte[1_000_000]);
            connection.ShutdownWrite();
            var answer = await Programs.ReadToEndAsync(connection);
            Assert.Equal(1_000_000, BitConverter.ToInt32(answer));
            var elapsed = loop.Time.GetElapsedTime(start);
            Assert.InRange(elapsed.TotalSeconds, 1.0, 1.1); // a million bytes and their headers at a million bytes a second
        });
    }

    [Fact]
    public void A_partition_times_connections_out_and_its_repair_lets_stalled_data_through()
    {
        var simulation = new Simulation(6, TenMilliseconds);
        simulation.AddHost("echo", Programs.EchoServer(7));
        simulation.Run(async () =>
        {
            var loop = EventLoop.Current;
            await using var connection = await SocketStream.ConnectAsync("echo", 7);
            simulation.Partition("client", "echo");
            var options = new SocketStreamOptions { ConnectTimeout = TimeSpan.FromSeconds(2) };
            await Assert.ThrowsAsync<ConnectionTimedOutException>(() => SocketStream.ConnectAsync("echo", 7, options));
            await connection.WriteAsync("during"u8.ToArray()); // lost, then sent again until the link heals
            loop.CallLater(TimeSpan.FromSeconds(3), () => simulation.Repair("client", "echo"));
            long start = loop.Time.GetTimestamp();
            var buffer = new byte[16];
            Assert.Equal(6, await connection.ReadAsync(buffer));
            Assert.True(loop.Time.GetElapsedTime(start) >= TimeSpan.FromSeconds(3));
        });
    }

    [Fact]
    public void Held_data_arrives_when_it_is_released_and_not_before()
    {
        var simulation = new Simulation(7, TenMilliseconds);
        simulation.AddHost("echo", Programs.EchoServer(7));
        simulation.Run(async () =>
        {
            var loop = EventLoop.Current;
            await using var connection = await SocketStream.ConnectAsync("echo", 7);
            simulation.Hold("client", "echo");
            await connection.WriteAsync("held"u8.ToArray());
            long start = loop.Time.GetTimestamp();
            loop.CallLater(TimeSpan.FromSeconds(10), () => simulation.Release("client", "echo"));
            var buffer = new byte[16];
            Assert.Equal(4, await connection.ReadAsync(buffer));
            // Released at 10 s (both the request and nothing else were held), then 10 ms back.
            Assert.Equal(TimeSpan.FromSeconds(10) + TimeSpan.FromMilliseconds(10), loop.Time.GetElapsedTime(start));
        });
    }

    [Fact]
    public void A_crash_resets_connections_and_a_restart_serves_again()
    {
        var simulation = new Simulation(8, TenMilliseconds);
        var server = simulation.AddHost("echo", Programs.EchoServer(7));
        simulation.Run(async () =>
        {
            var loop = EventLoop.Current;
            await using var connection = await SocketStream.ConnectAsync("echo", 7);
            var reading = loop.Spawn(async () => await connection.ReadAsync(new byte[16]), "reader");
            await loop.Delay(TimeSpan.FromSeconds(1));
            simulation.Crash("echo");
            Assert.False(server.IsUp);
            await Assert.ThrowsAsync<ConnectionResetException>(async () => await reading);
            var quick = new SocketStreamOptions { ConnectTimeout = TimeSpan.FromSeconds(2) };
            await Assert.ThrowsAsync<ConnectionTimedOutException>(() => SocketStream.ConnectAsync("echo", 7, quick)); // a dead host answers nothing
            simulation.Restart("echo");
            Assert.Equal(2, server.Incarnation);
            await using var again = await SocketStream.ConnectAsync("echo", 7);
            Assert.Equal("back", await Programs.ExchangeAsync(again, "back"));
        });
    }

    [Fact]
    public void Datagrams_are_lost_and_duplicated_as_the_link_says()
    {
        static async Task<int> CountAnswers(Simulation simulation)
        {
            await using var udp = DatagramSocket.Open();
            udp.Connect(new IPEndPoint(simulation.Hosts[1].Address, 9));
            for (int i = 0; i < 100; i++) await udp.SendAsync(new byte[8]);
            int answers = 0;
            try
            {
                await EventLoop.Current.WithTimeout(TimeSpan.FromSeconds(1), async token =>
                {
                    var buffer = new byte[16];
                    while (true)
                    {
                        await udp.ReceiveAsync(buffer, token);
                        answers++;
                    }
                });
            }
            catch (TimeoutException) { }
            return answers;
        }

        int Run(LinkOptions link)
        {
            var simulation = new Simulation(9, new SimulationOptions { Link = link, DatagramQueueLength = 1000 });
            simulation.AddHost("udp", Programs.UdpEcho(9));
            int answers = 0;
            simulation.Run(async () => answers = await CountAnswers(simulation));
            return answers;
        }

        Assert.Equal(100, Run(LinkOptions.Default));
        Assert.Equal(0, Run(new LinkOptions { Loss = 1 }));
        Assert.Equal(400, Run(new LinkOptions { Duplication = 1 })); // each way doubles
        Assert.InRange(Run(new LinkOptions { Loss = 0.5 }), 10, 45); // both ways must survive: about a quarter
    }

    [Fact]
    public void Unix_sockets_and_pipes_work_inside_a_host()
    {
        var simulation = new Simulation(10);
        simulation.Run(async () =>
        {
            var loop = EventLoop.Current;
            await using var listener = StreamListener.ListenUnix("/run/app.sock");
            var serving = loop.Spawn(async () =>
            {
                await using var connection = await listener.AcceptAsync();
                await connection.WriteAsync("unix"u8.ToArray());
            }, "unix server");
            await using var client = await SocketStream.ConnectUnixAsync("/run/app.sock");
            Assert.Equal("unix", Encoding.ASCII.GetString(await Programs.ReadToEndAsync(client)));
            await serving;
            await Assert.ThrowsAsync<PlatformNotSupportedException>(() => DataStream.OpenAsync("/etc/hostname"));
        });
    }

    [Fact]
    public void A_failing_client_reports_its_seed_and_the_command_that_replays_it()
    {
        var simulation = new Simulation(42);
        var error = Assert.Throws<SimulationFailedException>(() => { simulation.Run(() => throw new InvalidOperationException("boom")); });
        Assert.Equal(42, error.Seed);
        Assert.Contains("seed 42", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{Simulation.SeedVariable}=42 dotnet test", error.Replay, StringComparison.Ordinal);
        Assert.Contains(nameof(A_failing_client_reports_its_seed_and_the_command_that_replays_it), error.Replay, StringComparison.Ordinal);
    }

    [Fact]
    public void A_client_that_never_finishes_stops_at_the_virtual_deadline()
    {
        var simulation = new Simulation(11, new SimulationOptions { Deadline = TimeSpan.FromMinutes(5) });
        var result = simulation.Run(() => EventLoop.Current.Delay(TimeSpan.FromDays(1)).AsTask());
        Assert.False(result.ClientCompleted);
        Assert.True(result.Elapsed >= TimeSpan.FromMinutes(5) && result.Elapsed < TimeSpan.FromMinutes(6), result.ToString());
    }
}
