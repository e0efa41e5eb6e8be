using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Meanwhile.Http.Server;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Meanwhile.Http.Client.Tests;

/// <summary>
/// The client's and the server's traces, read with the OpenTelemetry SDK's in-memory exporter: the client sends a W3C
/// traceparent and the server continues its trace; and the client's meter, read with a <see cref="MeterListener"/>.
/// </summary>
public sealed class TelemetryTests
{
    private static readonly ActivitySource TestSource = new("Meanwhile.Http.Client.Tests.Telemetry");

    [Fact]
    public async Task The_client_sends_traceparent_and_the_server_continues_its_trace()
    {
        var exported = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(TestSource.Name, "Meanwhile.Http.Client", "Meanwhile.Http.Server")
            .AddInMemoryExporter(exported)
            .Build();
        string? traceparent = null;
        await using var server = new HttpServer((request, response) =>
        {
            traceparent = request.TryGetHeader("traceparent"u8, out var value) ? Encoding.ASCII.GetString(value) : null;
            response.Write("traced"u8);
            return ValueTask.CompletedTask;
        }, new HttpServerOptions { Port = 0, Loops = 1 });
        await server.StartAsync();

        ActivityTraceId traceId = default;
        ActivitySpanId rootId = default;
        Loops.Run(async () =>
        {
            await using var client = new LoopHttpClient();
            using var root = TestSource.StartActivity("test")!;
            (traceId, rootId) = (root.TraceId, root.SpanId);
            using var response = await client.GetAsync(new Uri($"http://{server.EndPoint}/traced?q=1"));
            Assert.Equal(200, response.StatusCode);
            Assert.Same(root, Activity.Current); // the client's span did not stay current after the call
        });
        await server.StopAsync();
        tracing.ForceFlush();

        List<Activity> spans;
        lock (exported) spans = exported.Where(a => a.TraceId == traceId).ToList(); // other tests' requests are traced too
        var clientSpan = Assert.Single(spans, a => a.Source.Name == "Meanwhile.Http.Client");
        var serverSpan = Assert.Single(spans, a => a.Source.Name == "Meanwhile.Http.Server");
        Assert.Equal((ActivityKind.Client, rootId), (clientSpan.Kind, clientSpan.ParentSpanId));
        Assert.Equal((ActivityKind.Server, clientSpan.SpanId), (serverSpan.Kind, serverSpan.ParentSpanId));
        // Flags: sampled (01), and .NET 10 also marks its trace ids random (02).
        Assert.Matches($"^00-{traceId}-{clientSpan.SpanId}-0[13]$", traceparent);
        Assert.Equal(200, clientSpan.GetTagItem("http.response.status_code"));
        Assert.Equal("GET", clientSpan.GetTagItem("http.request.method"));
        Assert.Equal(200, serverSpan.GetTagItem("http.response.status_code"));
        Assert.Equal("/traced", serverSpan.GetTagItem("url.path"));
    }

    [Fact]
    public async Task Without_a_listener_the_client_sends_no_traceparent()
    {
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Loops.Run(async () =>
        {
            var loop = EventLoop.Current;
            await using var listener = StreamListener.ListenTcp(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            var peer = loop.Spawn(async () =>
            {
                await using var connection = await listener.AcceptAsync();
                var buffer = new byte[4096];
                int read = await connection.ReadAsync(buffer);
                await connection.WriteAsync("HTTP/1.1 204 No Content\r\n\r\n"u8.ToArray());
                received.SetResult(Encoding.ASCII.GetString(buffer, 0, read));
            });
            await using var client = new LoopHttpClient();
            using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{listener.Port}/"));
            await peer;
        });
        Assert.DoesNotContain("traceparent", await received.Task, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_client_meter_counts_requests_failures_and_connections()
    {
        var totals = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Meanwhile.Http.Client")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (totals)
            {
                totals[instrument.Name] = totals.GetValueOrDefault(instrument.Name) + value;
            }
        });
        listener.Start();
        int refusedPort = FreePort.Get();
        Loops.Run(async () =>
        {
            var loop = EventLoop.Current;
            await using var listening = StreamListener.ListenTcp(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            var peer = loop.Spawn(async () =>
            {
                await using var connection = await listening.AcceptAsync();
                await connection.ReadAsync(new byte[4096]);
                await connection.WriteAsync("HTTP/1.1 204 No Content\r\n\r\n"u8.ToArray());
            });
            await using var client = new LoopHttpClient();
            using (await client.GetAsync(new Uri($"http://127.0.0.1:{listening.Port}/")))
            {
            }

            await peer;
            await Assert.ThrowsAsync<LoopHttpException>(async () => await client.GetAsync(new Uri($"http://127.0.0.1:{refusedPort}/")));
        });
        listener.Dispose();

        // Other tests' clients count too: at least this test's own.
        lock (totals)
        {
            Assert.True(totals.GetValueOrDefault("meanwhile.http.client.requests") >= 2);
            Assert.True(totals.GetValueOrDefault("meanwhile.http.client.failures") >= 1);
            Assert.True(totals.GetValueOrDefault("meanwhile.http.client.connections") >= 1);
            Assert.Contains("meanwhile.http.client.open_connections", totals.Keys);
        }
    }
}
