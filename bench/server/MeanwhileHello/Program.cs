// "Hello, World!" on Meanwhile.Http.Server for bench/server/run.sh.
//
//   MeanwhileHello --port 8081 [--loops 1]          (MEANWHILE_REACTOR=portable for the portable reactor)
//   MeanwhileHello --port 8443 --tls-cert cert.pem --tls-key key.pem    (HTTPS; bench/server/tls.sh)
//
// GET /        -> 200 "Hello, World!", Content-Type: text/plain (a Router route, as an application would write it)
// GET /_stats  -> "<bytes allocated by the process> <gen0 GCs> <gen1 GCs> <gen2 GCs>": the benchmark reads it before
//                 and after a wrk run; the difference divided by the requests is the allocation per request. The
//                 endpoint itself allocates nothing (formatted into a stack buffer).
// GET /_heap   -> "<live managed heap bytes> <GC committed bytes> <bytes allocated so far> <gen0 GCs so far>" (the last
//                 two read before the collections) after two full compacting collections: what
//                 bench/server/idle.sh reads before and after opening its idle connections (diagnosis; it allocates).
//                 /_heap?aggressive makes the last one GCCollectionMode.Aggressive (all free memory decommitted).
// --alloc-ticks    prints the runtime's AllocationTick events (type name and size, about one per 100 KB allocated) to
//                  stderr through an in-process EventListener: which types the remaining allocations are. Diagnosis only
//                  (the listener costs CPU); run.sh does not use it.
using System.Buffers.Text;
using System.Globalization;
using Meanwhile.Http.Server;

string host = "127.0.0.1";
int port = 8081;
int loops = 1;
string? tlsCertificate = null, tlsKey = null;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--host": host = Next(); break;
        case "--port": port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--loops": loops = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--alloc-ticks": _ = new AllocationTicks(); break;
        case "--tls-cert": tlsCertificate = Next(); break;
        case "--tls-key": tlsKey = Next(); break;
        default:
            Console.Error.WriteLine("usage: MeanwhileHello [--host ADDRESS] [--port N] [--loops N] [--alloc-ticks] [--tls-cert FILE --tls-key FILE]");
            return 2;
    }
}

var router = new Router()
    .MapGet("/", static (request, response) =>
    {
        response.AddHeader("Content-Type"u8, "text/plain"u8);
        response.Write("Hello, World!"u8);
        return ValueTask.CompletedTask;
    })
    .MapGet("/_stats", static (request, response) =>
    {
        Span<byte> text = stackalloc byte[96];
        int n = 0;
        Append(text, ref n, GC.GetTotalAllocatedBytes(precise: true));
        Append(text, ref n, GC.CollectionCount(0));
        Append(text, ref n, GC.CollectionCount(1));
        Append(text, ref n, GC.CollectionCount(2));
        text[n - 1] = (byte)'\n';
        response.AddHeader("Content-Type"u8, "text/plain"u8);
        response.Write(text[..n]);
        return ValueTask.CompletedTask;
    })
    .MapGet("/_heap", static (request, response) =>
    {
        // ?aggressive: the last collection is GCCollectionMode.Aggressive, which also gives every free page back.
        bool aggressive = request.Query.SequenceEqual("aggressive"u8);
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        int gen0 = GC.CollectionCount(0);
        for (int i = 0; i < 2; i++)
        {
            GC.Collect(2, aggressive && i == 1 ? GCCollectionMode.Aggressive : GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        Span<byte> text = stackalloc byte[64];
        int n = 0;
        Append(text, ref n, GC.GetTotalMemory(forceFullCollection: false));
        Append(text, ref n, GC.GetGCMemoryInfo(GCKind.Any).TotalCommittedBytes);
        Append(text, ref n, allocated);
        Append(text, ref n, gen0);
        text[n - 1] = (byte)'\n';
        response.AddHeader("Content-Type"u8, "text/plain"u8);
        response.Write(text[..n]);
        return ValueTask.CompletedTask;
    });

await using var server = new HttpServer(router.HandleAsync, new HttpServerOptions { Host = host, Port = port, Loops = loops, Https = tlsCertificate is null ? null : new HttpsOptions { Certificate = ServerCertificate.LoadPem(tlsCertificate, tlsKey) } });
await server.StartAsync();
Console.WriteLine($"listening on {server.EndPoint} ({loops} loop{(loops == 1 ? "" : "s")}, reactor {Environment.GetEnvironmentVariable("MEANWHILE_REACTOR") ?? "default"})");

await server.RunUntilSignalAsync();
return 0;

static void Append(Span<byte> text, ref int n, long value)
{
    Utf8Formatter.TryFormat(value, text[n..], out int written);
    n += written;
    text[n++] = (byte)' ';
}

/// <summary>Prints GC AllocationTick events (keyword GC = 0x1, verbose) to stderr.</summary>
internal sealed class AllocationTicks : System.Diagnostics.Tracing.EventListener
{
    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
    }

    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
    {
        if (e.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null || e.PayloadNames is null) return;
        int type = e.PayloadNames.IndexOf("TypeName");
        int size = e.PayloadNames.IndexOf("ObjectSize");
        Console.Error.WriteLine($"alloc-tick {(type >= 0 ? e.Payload[type] : "?")} {(size >= 0 ? e.Payload[size] : "?")}");
    }
}
