using System.Diagnostics;
using System.Globalization;
using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Cli;

/// <summary>
/// Runs an <see cref="HttpServer"/> for <c>serve</c> and <c>echo</c>: prints where it listens, logs each request,
/// and shuts down gracefully on Ctrl+C or SIGTERM (stop accepting, finish requests in flight, exit 0).
/// </summary>
internal static class ServerHost
{
    /// <summary>Serves until a signal; returns the exit code.</summary>
    /// <param name="what">What is served, for the first line ("echo", "/srv/www").</param>
    /// <param name="handler">The handler.</param>
    /// <param name="host">Address to listen on.</param>
    /// <param name="port">Port (0: any free one).</param>
    /// <param name="loops">Event loops.</param>
    /// <param name="accessLog">Print one line per request.</param>
    public static async Task<int> RunAsync(string what, RequestHandler handler, string host, int port, int loops, bool accessLog)
    {
        var options = new HttpServerOptions { Host = host, Port = port, Loops = loops, ShutdownTimeout = TimeSpan.FromSeconds(5), ServerHeader = "meanwhile" };
        await using var server = new HttpServer(accessLog ? WithAccessLog(handler) : handler, options);
        try
        {
            await server.StartAsync();
        }
        catch (Exception e) when (e is SystemCallException or AddressInUseException or PermissionDeniedException)
        {
            Terminal.Error($"cannot listen on {host}:{port}: {e.Message}");
            return ExitCodes.Failure;
        }
        // Scripts and tests read this line for the port, so its shape stays put.
        Console.Out.WriteLine($"listening on http://{server.EndPoint} ({what}, {loops} loop{(loops == 1 ? "" : "s")}); Ctrl+C stops");
        Console.Out.Flush();

        await server.RunUntilSignalAsync(_ => Console.Error.WriteLine("meanwhile: shutting down (finishing requests in flight)"));
        Console.Error.WriteLine("meanwhile: stopped");
        return ExitCodes.Success;
    }

    /// <summary>Wraps a handler so each request prints a line: time, client, request, status, bytes, duration.</summary>
    internal static RequestHandler WithAccessLog(RequestHandler handler) => async (request, response) =>
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            await handler(request, response);
        }
        finally
        {
            var line = new StringBuilder(128);
            line.Append(CultureInfo.InvariantCulture, $"{DateTime.Now:HH:mm:ss.fff} {request.RemoteEndPoint} \"{request}\" {response.StatusCode} {response.BytesWritten} B {Stopwatch.GetElapsedTime(start).TotalMilliseconds:0.00} ms");
            // Console.Out is synchronized, so lines from several loops never interleave.
            Console.Out.WriteLine(line.ToString());
        }
    };
}
