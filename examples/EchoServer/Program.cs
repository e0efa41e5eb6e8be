// Echo server: every request is answered with 200 and a JSON description of what arrived
// (tests/conformance/README.md). Prints "listening on HOST:PORT" once every loop listens.
//
//   dotnet run --project examples/EchoServer -- --port 0 --loops 2
//   dotnet run --project examples/EchoServer -- --hello     (plain "Hello, World!" instead, for benchmarks)
using Meanwhile.Http.Server;

string host = "127.0.0.1";
int port = 8080;
int loops = Environment.ProcessorCount;
bool hello = false;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--host": host = Next(); break;
        case "--port": port = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
        case "--loops": loops = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
        case "--hello": hello = true; break;
        case "-h" or "--help":
            Console.WriteLine("usage: EchoServer [--host ADDRESS] [--port N (0: any)] [--loops N] [--hello]");
            return 0;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}; try --help");
            return 2;
    }
}

RequestHandler handler = hello ? Hello : EchoHandler.HandleAsync;
await using var server = new HttpServer(handler, new HttpServerOptions { Host = host, Port = port, Loops = loops, ShutdownTimeout = TimeSpan.FromSeconds(5) });
await server.StartAsync();
Console.WriteLine($"listening on {server.EndPoint} ({loops} loop{(loops == 1 ? "" : "s")}, {(hello ? "hello" : "echo")} mode)");

// SIGINT and SIGTERM start the graceful shutdown: stop accepting, finish requests in flight, then exit.
await server.RunUntilSignalAsync();
return 0;

static ValueTask Hello(ServerRequest request, ServerResponse response)
{
    response.AddHeader("Content-Type"u8, "text/plain"u8);
    response.Write("Hello, World!"u8);
    return ValueTask.CompletedTask;
}
