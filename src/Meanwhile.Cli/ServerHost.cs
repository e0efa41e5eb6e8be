using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
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
    /// <param name="settings">Where to listen, loops, access log, shutdown timeout.</param>
    public static async Task<int> RunAsync(string what, RequestHandler handler, ServerSettings settings)
    {
        var address = new IPEndPoint(IPAddress.Parse(settings.Host), settings.Port);
        var options = new HttpServerOptions { Host = settings.Host, Port = settings.Port, Loops = settings.Loops, ShutdownTimeout = settings.ShutdownTimeout, ServerHeader = "meanwhile", Diagnostics = settings.Diagnostics };
        await using var server = new HttpServer(settings.AccessLog ? WithAccessLog(handler) : handler, options);
        try
        {
            await server.StartAsync();
        }
        catch (SystemCallException e)
        {
            // A failed start leaves nothing running, so the process ends here, with one line and no stack trace.
            Terminal.Error(ListenFailure(address, e));
            return ExitCodes.Failure;
        }
        // Scripts and tests read this line for the port, so its shape stays put.
        Console.Out.WriteLine($"listening on http://{server.EndPoint} ({what}, {settings.Loops} loop{(settings.Loops == 1 ? "" : "s")}); Ctrl+C stops");
        Console.Out.Flush();

        try
        {
            await server.RunUntilSignalAsync(_ => Terminal.Error($"shutting down: finishing the requests in flight (at most {settings.ShutdownTimeout}; a second Ctrl+C stops at once)"));
        }
        catch (Exception e)
        {
            Terminal.Error($"the server on {server.EndPoint} failed: {e.Message}");
            return ExitCodes.Failure;
        }
        if (server.ConnectionsCutAtShutdown is > 0 and var cut)
        {
            Terminal.Error($"stopped: the {settings.ShutdownTimeout} shutdown timeout cut {cut} connection{(cut == 1 ? "" : "s")} with a response in flight");
            return ExitCodes.Failure;
        }
        Terminal.Error("stopped");
        return ExitCodes.Success;
    }

    /// <summary>One line for a failure to listen: the address, the reason in words and its errno, and what to do about it.</summary>
    internal static string ListenFailure(IPEndPoint address, SystemCallException e)
    {
        string reason = e.ErrorName switch
        {
            "EADDRINUSE" => "the address is in use (EADDRINUSE): another program listens there; choose another --port, or 0 for a free one",
            "EADDRNOTAVAIL" => "this machine has no such address (EADDRNOTAVAIL); --host 127.0.0.1 listens on this machine only, 0.0.0.0 on every interface",
            "EACCES" or "EPERM" when address.Port is > 0 and < 1024 => $"permission denied ({e.ErrorName}): ports below 1024 need root or the CAP_NET_BIND_SERVICE capability",
            _ => $"{e.ErrorName} ({Marshal.GetPInvokeErrorMessage(e.ErrorNumber)})",
        };
        return $"cannot listen on {address}: {reason}";
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
