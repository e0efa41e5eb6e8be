using System.Net;
using System.Text;
using Meanwhile.Http.Client;
using Meanwhile.Http.Server;

namespace Meanwhile.Simulations.Tests;

/// <summary>The project's own HTTP server and client, unchanged, on the simulated network.</summary>
public class HttpTests
{
    private static Func<CancellationToken, Task> Server(RequestHandler handler) => async cancellationToken =>
    {
        var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Any, 80));
        await HttpServer.ServeAsync(listener, handler, null, cancellationToken);
    };

    /// <summary>Answers with the request's path.</summary>
    private static ValueTask EchoPath(ServerRequest request, ServerResponse response)
    {
        response.Write(request.Path);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public void A_request_crosses_the_simulated_network_to_the_real_server()
    {
        var simulation = new Simulation(1);
        simulation.AddHost("web", Server(EchoPath));
        var result = simulation.Run(async () =>
        {
            await using var http = new LoopHttpClient();
            Assert.Equal("/hello", await http.GetStringAsync("http://web/hello"));
        });
        Assert.True(result.ClientCompleted);
        Assert.True(result.Events >= 4, result.ToString()); // the handshake, the request, the response
    }

    /// <summary>
    /// An ordinary async handler (its value task backed by a Task) that waits a virtual second, under many clients at once:
    /// the run is the same every time. Its completion once went through a thread-pool thread and came back in real time,
    /// while the simulation's clock moved on: runs differed, and some requests timed out.
    /// </summary>
    [Fact]
    public void An_async_handler_that_waits_runs_the_same_every_time()
    {
        SimulationResult RunOnce()
        {
            var simulation = new Simulation(1);
            simulation.AddHost("web", Server(async (request, response) =>
            {
                await EventLoop.Current.Delay(TimeSpan.FromSeconds(1));
                response.Write("done"u8);
            }));
            return simulation.Run(async () =>
            {
                var loop = EventLoop.Current;
                await using var http = new LoopHttpClient(new LoopHttpClientOptions { MaxConnectionsPerOrigin = 500 });
                var requests = Enumerable.Range(0, 500).Select(_ => loop.Spawn(async () => Assert.Equal("done", await http.GetStringAsync("http://web/slow")))).ToList();
                foreach (var request in requests) await request;
            });
        }

        var first = RunOnce();
        var second = RunOnce();
        Assert.True(first.ClientCompleted, first.ToString());
        Assert.Equal(first.TraceHash, second.TraceHash);
        Assert.Equal(first.Events, second.Events);
        Assert.InRange(first.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1.1));
    }

    /// <summary>
    /// The end of a run cancels the server with its connections waiting on clients that keep them alive (an async handler
    /// answered each while its disconnect watcher waited): those waits end without an exception, so the exceptions of a
    /// run do not grow with its connections. Ten thousand throws once took a tenth of the 10,000-request benchmark.
    /// </summary>
    [Fact]
    public void A_stopping_server_throws_no_exception_per_idle_connection()
    {
        int ThrownOnThisThread(int clients)
        {
            var simulation = new Simulation(1);
            simulation.AddHost("web", Server(async (request, response) =>
            {
                await EventLoop.Current.Delay(TimeSpan.FromMilliseconds(100));
                response.Write("done"u8);
            }));
            int thread = Environment.CurrentManagedThreadId, thrown = 0;
            EventHandler<System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs> count = (_, _) =>
            {
                if (Environment.CurrentManagedThreadId == thread) thrown++;
            };
            AppDomain.CurrentDomain.FirstChanceException += count;
            try
            {
                var result = simulation.Run(async () =>
                {
                    var loop = EventLoop.Current;
                    var http = new LoopHttpClient(new LoopHttpClientOptions { MaxConnectionsPerOrigin = clients });
                    var requests = Enumerable.Range(0, clients).Select(_ => loop.Spawn(async () => Assert.Equal("done", await http.GetStringAsync("http://web/slow")))).ToList();
                    foreach (var request in requests) await request;
                    // Not disposed: every connection stays open, waited on by the server, until the run ends.
                });
                Assert.True(result.ClientCompleted);
            }
            finally
            {
                AppDomain.CurrentDomain.FirstChanceException -= count;
            }
            return thrown;
        }

        int few = ThrownOnThisThread(10);
        int many = ThrownOnThisThread(200);
        Assert.Equal(few, many);
    }

    [Fact]
    public void A_thousand_clients_that_retry_each_end_in_a_response_or_a_typed_error_within_their_budget()
    {
        const int clients = 1000, attempts = 4;
        var requestTimeout = TimeSpan.FromSeconds(2);
        var backoff = TimeSpan.FromMilliseconds(500);
        // Each attempt takes at most its timeout, then a growing pause: the most a request may take in all.
        var budget = attempts * requestTimeout + backoff * (attempts * (attempts - 1) / 2);
        var simulation = new Simulation(19, new SimulationOptions
        {
            Link = new LinkOptions { Latency = LatencyDistribution.Exponential(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5)), Loss = 0.02 },
        });
        simulation.AddHost("web", Server(EchoPath));
        var outcomes = new string?[clients];
        var durations = new TimeSpan[clients];
        var result = simulation.Run(async () =>
        {
            var loop = EventLoop.Current;
            loop.CallLater(TimeSpan.FromSeconds(1), () => simulation.Partition("client", "web"));
            loop.CallLater(TimeSpan.FromSeconds(4), () => simulation.Repair("client", "web"));
            await using var http = new LoopHttpClient(new LoopHttpClientOptions
            {
                ConnectTimeout = TimeSpan.FromSeconds(1),
                RequestTimeout = requestTimeout,
                MaxConnectionsPerOrigin = 100,
            });
            var tasks = new List<LoopTask>();
            for (int i = 0; i < clients; i++)
            {
                int id = i;
                tasks.Add(loop.Spawn(async () =>
                {
                    // Started over the first three seconds, so some meet the partition and some do not.
                    await loop.Delay(TimeSpan.FromMilliseconds(3 * id));
                    long start = loop.Time.GetTimestamp();
                    for (int attempt = 1; ; attempt++)
                    {
                        try
                        {
                            string body = await http.GetStringAsync($"http://web/item/{id}");
                            outcomes[id] = body == $"/item/{id}" ? "ok" : $"wrong body {body}";
                            break;
                        }
                        catch (Exception e) when (e is LoopHttpException or SystemCallException)
                        {
                            if (attempt == attempts)
                            {
                                outcomes[id] = e.GetType().Name;
                                break;
                            }
                            await loop.Delay(backoff * attempt);
                        }
                    }
                    durations[id] = loop.Time.GetElapsedTime(start);
                }, $"client {id}"));
            }
            foreach (var task in tasks) await task;
        });
        Assert.True(result.ClientCompleted, result.ToString());
        Assert.All(outcomes, outcome => Assert.True(outcome is "ok" or nameof(LoopHttpException) or nameof(ConnectionTimedOutException), outcome));
        Assert.All(durations, duration => Assert.True(duration <= budget + TimeSpan.FromSeconds(1), $"{duration} > {budget}"));
        Assert.Contains("ok", outcomes);
        Assert.True(outcomes.Count(o => o == "ok") > clients / 2, string.Join(", ", outcomes.GroupBy(o => o).Select(g => $"{g.Key}: {g.Count()}")));
    }
}
