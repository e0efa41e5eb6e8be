using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Meanwhile.Http.WebSockets;

namespace Meanwhile.Cli;

/// <summary>
/// <c>meanwhile bench ws://...</c>: a WebSocket load on one loop. Each of the connections sends a binary message of
/// the given size and waits for the echo before the next, for the duration; reports messages per second (round trips)
/// and round-trip latency percentiles.
/// </summary>
internal static class WebSocketLoad
{
    private static readonly (string Name, double Percentile)[] Percentiles = [("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)];

    public static int Run(Uri uri, int connections, int messageSize, TimeSpan duration, bool insecure, bool json)
    {
        var options = new LoopWebSocketOptions
        {
            MaxMessageBytes = Math.Max(messageSize, 1024) * 2L,
            ServerCertificateValidation = insecure ? (_, _, _, _) => true : null,
            Compression = null, // a load of plain frames, as its peers (wrk-like loaders, Kestrel, Node ws) run by default
        };
        var (elapsed, latency, errors, firstError) = EventLoop.Run(() => LoadAsync(uri, connections, messageSize, duration, options));
        double perSecond = latency.Count / elapsed.TotalSeconds;
        var c = CultureInfo.InvariantCulture;
        if (json)
        {
            using var stdout = Console.OpenStandardOutput();
            using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                w.WriteString("url", uri.ToString());
                w.WriteNumber("connections", connections);
                w.WriteNumber("message_bytes", messageSize);
                w.WriteNumber("duration_s", Math.Round(elapsed.TotalSeconds, 3));
                w.WriteNumber("messages", latency.Count);
                w.WriteNumber("messages_per_s", Math.Round(perSecond, 1));
                w.WriteNumber("errors", errors);
                w.WriteStartObject("latency_us");
                w.WriteNumber("mean", Math.Round(latency.Mean / 1e3, 1));
                foreach (var (name, p) in Percentiles) w.WriteNumber(name, Math.Round(latency.ValueAt(p) / 1e3, 1));
                w.WriteNumber("max", Math.Round(latency.Max / 1e3, 1));
                w.WriteEndObject();
                w.WriteEndObject();
            }
            stdout.WriteByte((byte)'\n');
        }
        else
        {
            Console.Out.WriteLine(string.Create(c, $"{uri}: {elapsed.TotalSeconds:0.00} s, {connections} connections, {messageSize}-byte messages, one loop"));
            Console.Out.WriteLine(string.Create(c, $"  round trips    {latency.Count:N0} ({perSecond:N0}/s)"));
            Console.Out.WriteLine(string.Create(c, $"  errors         {errors:N0}"));
            Console.Out.WriteLine(string.Create(c, $"  latency mean   {latency.Mean / 1e3:0.0} µs"));
            foreach (var (name, p) in Percentiles) Console.Out.WriteLine(string.Create(c, $"  latency {name,-6} {latency.ValueAt(p) / 1e3:0.0} µs"));
            Console.Out.WriteLine(string.Create(c, $"  latency max    {latency.Max / 1e3:0.0} µs"));
        }
        if (latency.Count > 0) return ExitCodes.Success;
        Terminal.Error($"no round trip completed: {firstError ?? "no answer"}");
        return ExitCodes.Failure;
    }

    private static async Task<(TimeSpan Elapsed, LatencyHistogram Latency, long Errors, string? FirstError)> LoadAsync(
        Uri uri, int connections, int messageSize, TimeSpan duration, LoopWebSocketOptions options)
    {
        var loop = EventLoop.Current;
        var latency = new LatencyHistogram();
        long errors = 0;
        string? firstError = null;
        var payload = new byte[messageSize];
        new Random(42).NextBytes(payload);
        var sockets = new LoopWebSocket?[connections];
        // Connect everything first, so the timed part is messages only.
        await loop.WhenAll(Enumerable.Range(0, connections).Select(i => (Task)loop.Spawn(async () =>
        {
            try
            {
                sockets[i] = await LoopWebSocket.ConnectAsync(uri, options);
            }
            catch (Exception e) when (e is LoopWebSocketException or SystemCallException or TimeoutException or IOException)
            {
                errors++;
                firstError ??= e.Message;
            }
        }, "bench connect")).ToList());
        var start = Stopwatch.GetTimestamp();
        long end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await loop.WhenAll(sockets.OfType<LoopWebSocket>().Select(socket => (Task)loop.Spawn(async () =>
        {
            var back = new byte[Math.Max(messageSize, 1)];
            try
            {
                while (Stopwatch.GetTimestamp() < end)
                {
                    long sent = Stopwatch.GetTimestamp();
                    await socket.SendAsync(payload, WebSocketMessageKind.Binary);
                    int received = 0;
                    while (true)
                    {
                        var piece = await socket.ReceiveAsync(back.AsMemory(Math.Min(received, back.Length - 1)));
                        if (piece.Kind == WebSocketMessageKind.Close) return;
                        received += piece.Count;
                        if (piece.EndOfMessage) break;
                    }
                    latency.Record((long)Stopwatch.GetElapsedTime(sent).TotalNanoseconds);
                }
                await socket.CloseAsync();
            }
            catch (Exception e) when (e is LoopWebSocketException or InvalidOperationException)
            {
                errors++;
                firstError ??= e.Message;
            }
            finally
            {
                await socket.DisposeAsync();
            }
        }, "bench sender")).ToList());
        return (Stopwatch.GetElapsedTime(start), latency, errors, firstError);
    }
}
