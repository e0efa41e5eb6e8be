using System.Net;
using System.Text;

namespace Meanwhile.Simulations.Tests;

public class DeterminismTests
{
    /// <summary>
    /// A busy little world: an echo server and a UDP echo behind a jittery, lossy link; the client opens several
    /// connections at once, exchanges messages of sizes the seed picks, and sends datagrams some of which are lost,
    /// duplicated or reordered.
    /// </summary>
    private static SimulationResult RunScenario(long seed)
    {
        var simulation = new Simulation(seed, new SimulationOptions
        {
            Link = new LinkOptions
            {
                Latency = LatencyDistribution.Uniform(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(20)),
                Loss = 0.05,
                Duplication = 0.05,
                Reordering = 0.1,
            },
        });
        simulation.AddHost("echo", Programs.EchoServer(7));
        simulation.AddHost("udp", Programs.UdpEcho(9));
        return simulation.Run(async () =>
        {
            var loop = EventLoop.Current;
            var exchanges = Enumerable.Range(0, 5).Select(i => loop.Spawn(async () =>
            {
                await using var connection = await SocketStream.ConnectAsync("echo", 7);
                string message = new string((char)('a' + i), 100 + 700 * i);
                Assert.Equal(message, await Programs.ExchangeAsync(connection, message));
            }, $"exchange {i}")).ToList();
            await using var udp = DatagramSocket.Open();
            udp.Connect(new IPEndPoint(simulation.Hosts[2].Address, 9));
            for (int i = 0; i < 20; i++) await udp.SendAsync(Encoding.ASCII.GetBytes($"ping {i}"));
            var buffer = new byte[64];
            int answers = 0;
            try
            {
                await loop.WithTimeout(TimeSpan.FromSeconds(1), async token =>
                {
                    while (true)
                    {
                        await udp.ReceiveAsync(buffer, token);
                        answers++;
                    }
                });
            }
            catch (TimeoutException) { }
            foreach (var exchange in exchanges) await exchange;
        });
    }

    [Fact]
    public void The_same_seed_gives_the_same_trace_and_different_seeds_give_different_ones()
    {
        var hashes = new HashSet<ulong>();
        for (long seed = 1; seed <= 100; seed++)
        {
            var first = RunScenario(seed);
            var second = RunScenario(seed);
            Assert.True(first.ClientCompleted, first.ToString());
            Assert.Equal(first.Trace, second.Trace);
            Assert.Equal(first.Events, second.Events);
            Assert.Equal(first.Elapsed, second.Elapsed);
            hashes.Add(first.TraceHash);
        }
        Assert.Equal(100, hashes.Count);
    }
}
