// The WebSocket servers of bench/websocket.sh. Usage: WsBenchServer meanwhile|kestrel PORT
//   meanwhile: /echo echoes each message; /broadcast holds connections, and GET /send sends one 100-byte message
//   (its first 8 bytes: the send time in Unix microseconds) to all of them at once, answering when all are written;
//   GET /send-prepared the same as a PreparedWebSocketMessage, encoded once.
//   kestrel: /echo with ASP.NET Core's WebSockets, the same echo loop.
using System.Buffers.Binary;
using System.Net.WebSockets;
using Meanwhile;
using Meanwhile.Http;
using Meanwhile.Http.Server;
using Meanwhile.Http.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

string mode = args[0];
int port = int.Parse(args[1]);
if (mode == "kestrel")
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
    var app = builder.Build();
    app.UseWebSockets();
    app.Map("/echo", async (HttpContext context) =>
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                return;
            }
            int count = result.Count;
            while (!result.EndOfMessage)
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
                count += result.Count;
            }
            await socket.SendAsync(buffer.AsMemory(0, count), result.MessageType, true, CancellationToken.None);
        }
    });
    Console.WriteLine($"listening on http://127.0.0.1:{port}");
    await app.RunAsync();
    return;
}

var clients = new List<LoopWebSocket>();
var router = new Router()
    .MapWebSocket("/echo", async socket =>
    {
        var message = new PooledByteBuffer(256);
        try
        {
            while (true)
            {
                var kind = await socket.ReceiveMessageAsync(message);
                if (kind == WebSocketMessageKind.Close) return;
                await socket.SendAsync(message.WrittenMemory, kind);
                message.Clear();
            }
        }
        finally
        {
            message.Release();
        }
    })
    .MapWebSocket("/broadcast", async socket =>
    {
        clients.Add(socket);
        try
        {
            while ((await socket.ReceiveAsync(new byte[16])).Kind != WebSocketMessageKind.Close)
            {
            }
        }
        catch (LoopWebSocketException)
        {
        }
        clients.Remove(socket);
    })
    // /send frames the message per connection; /send-prepared encodes it once (PreparedWebSocketMessage).
    .MapGet("/send", (request, response) => BroadcastAsync(response, prepared: false))
    .MapGet("/send-prepared", (request, response) => BroadcastAsync(response, prepared: true))
    .MapGet("/memory", (request, response) =>
    {
        // The managed heap after a full collection: with /count, what each idle connection keeps alive.
        response.Write(System.Text.Encoding.ASCII.GetBytes($"{GC.GetTotalMemory(forceFullCollection: true)}\n"));
        return ValueTask.CompletedTask;
    })
    .MapGet("/compact", (request, response) =>
    {
        // A compacting collection that gives free memory back to the system: RSS then holds the live objects and the
        // runtime, without the GC's slack of the moment (which moves RSS by megabytes either way).
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        response.Write("compacted\n"u8);
        return ValueTask.CompletedTask;
    })
    .MapGet("/gc", (request, response) =>
    {
        // What the GC holds beyond the live objects, as of its last collection (no collection forced): committed memory
        // and the free space inside it, which RSS pays for too.
        var info = GC.GetGCMemoryInfo();
        response.Write(System.Text.Encoding.ASCII.GetBytes(
            $"committed {info.TotalCommittedBytes} B, heap {info.HeapSizeBytes} B, fragmented {info.FragmentedBytes} B, gen0/1/2 collections {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}\n"));
        return ValueTask.CompletedTask;
    })
    .MapGet("/allocated", (request, response) =>
    {
        // Bytes allocated on the managed heap so far by all threads: around a load run, what each message costs the GC.
        response.Write(System.Text.Encoding.ASCII.GetBytes($"{GC.GetTotalAllocatedBytes(precise: true)}\n"));
        return ValueTask.CompletedTask;
    })
    .MapGet("/count", (request, response) =>
    {
        response.Write(System.Text.Encoding.ASCII.GetBytes($"{clients.Count}\n"));
        return ValueTask.CompletedTask;
    });
// One 100-byte message to every /broadcast client; its first 8 bytes: the server's clock (Unix µs) as it begins.
async ValueTask BroadcastAsync(ServerResponse response, bool prepared)
{
    var payload = new byte[100];
    BinaryPrimitives.WriteInt64LittleEndian(payload, (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10);
    long allocated = GC.GetAllocatedBytesForCurrentThread();
    long started = System.Diagnostics.Stopwatch.GetTimestamp();
    var message = prepared ? new PreparedWebSocketMessage(payload, WebSocketMessageKind.Binary) : null;
    // The sends are issued one after another without awaiting each: one whose bytes fit the socket buffer completes at
    // once, and only the ones waiting for a slow client are awaited after the loop.
    List<Task>? waiting = null;
    int count = 0;
    foreach (var client in clients.ToArray())
    {
        var send = message is null ? client.SendAsync(payload, WebSocketMessageKind.Binary) : client.SendAsync(message);
        if (!send.IsCompletedSuccessfully) (waiting ??= []).Add(send.AsTask());
        count++;
    }
    double loopMs = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
    if (waiting is not null) await Task.WhenAll(waiting);
    // How long the server took, apart from how long the clients took to read: the sends' loop, then all written.
    response.Write(System.Text.Encoding.UTF8.GetBytes(
        $"{count} sent{(prepared ? " prepared" : "")}: loop {loopMs:0.0} ms ({loopMs * 1000 / Math.Max(count, 1):0.0} µs per send), all written {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.0} ms, {waiting?.Count ?? 0} waited, loop allocated {allocated / (double)Math.Max(count, 1):0.0} B per send\n"));
}

// One loop: the broadcast list is the loop's, with no lock.
await using var server = new HttpServer(router.HandleAsync, new HttpServerOptions { Port = port, Loops = 1 });
await server.StartAsync();
Console.WriteLine($"listening on http://127.0.0.1:{port}");
await server.RunUntilSignalAsync();
