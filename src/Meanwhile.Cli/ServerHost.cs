using System.Net;
using System.Runtime.InteropServices;
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
    public static Task<int> RunAsync(string what, RequestHandler handler, ServerSettings settings) =>
        RunAsync(what, _ => handler, settings, serverHeader: "meanwhile");

    /// <summary>Serves with a handler made per loop (its own state on each), until a signal; returns the exit code.</summary>
    /// <param name="what">What is served, for the first line.</param>
    /// <param name="handlerPerLoop">Makes each loop's handler; the access log the settings ask for wraps it.</param>
    /// <param name="settings">Where to listen, loops, access log, shutdown timeout.</param>
    /// <param name="serverHeader">The Server field, or null for none (a proxy relays its upstream's).</param>
    public static async Task<int> RunAsync(string what, Func<EventLoop, RequestHandler> handlerPerLoop, ServerSettings settings, string? serverHeader)
    {
        var address = new IPEndPoint(IPAddress.Parse(settings.Host), settings.Port);
        string? selfSigned = null;
        HttpsOptions? https = null;
        if (settings.Tls is { } tls)
        {
            OpenSslDefaults.UseAeadOnlyUnlessConfigured(); // before the certificate: loading it starts OpenSSL
            try
            {
                https = new HttpsOptions { Certificate = LoadCertificate(tls, out selfSigned) };
            }
            catch (CertificateLoadException e)
            {
                Terminal.Error($"cannot serve HTTPS: {e.Message}");
                return ExitCodes.Failure;
            }
        }
        try
        {
            return await RunAsync(what, handlerPerLoop, settings, serverHeader, address, https);
        }
        finally
        {
            if (selfSigned is not null) Directory.Delete(selfSigned, recursive: true);
        }
    }

    private static async Task<int> RunAsync(string what, Func<EventLoop, RequestHandler> handlerPerLoop, ServerSettings settings, string? serverHeader, IPEndPoint address, HttpsOptions? https)
    {
        var options = new HttpServerOptions { Host = settings.Host, Port = settings.Port, Loops = settings.Loops, ShutdownTimeout = settings.ShutdownTimeout, ServerHeader = serverHeader, Https = https, Diagnostics = settings.Diagnostics };
        AccessLog? log;
        try
        {
            log = OpenAccessLog(settings);
        }
        catch (IOException e)
        {
            Terminal.Error(e.Message);
            return ExitCodes.Failure;
        }
        await using var server = new HttpServer(log is null ? handlerPerLoop : loop => new LoggedHandler(handlerPerLoop(loop), log).HandleAsync, options);
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
        Console.Out.WriteLine($"listening on {(https is null ? "http" : "https")}://{server.EndPoint} ({what}, {settings.Loops} loop{(settings.Loops == 1 ? "" : "s")}); Ctrl+C stops");
        Console.Out.Flush();

        try
        {
            await server.RunUntilSignalAsync(
                _ => Terminal.Error($"shutting down: finishing the requests in flight (at most {settings.ShutdownTimeout}; a second Ctrl+C stops at once)"),
                (count, failure) => Terminal.Error(failure is null ? $"SIGHUP: reloaded {count} certificate{(count == 1 ? "" : "s")}" : $"SIGHUP: the certificates in use stay: {failure.Message}"));
        }
        catch (Exception e)
        {
            Terminal.Error($"the server on {server.EndPoint} failed: {e.Message}");
            return ExitCodes.Failure;
        }
        ReportAccessLog(log);
        if (server.ConnectionsCutAtShutdown is > 0 and var cut)
        {
            Terminal.Error($"stopped: the {settings.ShutdownTimeout} shutdown timeout cut {cut} connection{(cut == 1 ? "" : "s")} with a response in flight");
            return ExitCodes.Failure;
        }
        Terminal.Error("stopped");
        return ExitCodes.Success;
    }

    /// <summary>The certificate of <paramref name="tls"/>: loaded from its files, or made and written for <c>--tls-self-signed</c> (its directory in <paramref name="directory"/>).</summary>
    private static ServerCertificate LoadCertificate(ServerTlsSettings tls, out string? directory)
    {
        directory = null;
        if (!tls.SelfSigned) return ServerCertificate.LoadPem(tls.CertificatePath!, tls.KeyPath!);
        var made = TlsFiles.WriteSelfSigned();
        directory = made.Directory;
        // On stderr, before the listening line: clients need both to trust this certificate.
        Terminal.Error($"self-signed certificate for localhost, 127.0.0.1 and ::1 written to {made.CertificatePath} (trust it with: curl --cacert {made.CertificatePath})");
        Terminal.Error($"SHA-256 fingerprint {TlsFiles.Fingerprint(made.Certificate)}");
        return ServerCertificate.LoadPem(made.CertificatePath, made.KeyPath);
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

    /// <summary>The access log the settings ask for, or null for none.</summary>
    /// <exception cref="IOException">The log file cannot be opened; the message is the line to print.</exception>
    private static AccessLog? OpenAccessLog(ServerSettings settings)
    {
        if (!settings.AccessLog) return null;
        var options = new AccessLogOptions
        {
            Format = settings.LogFormat,
            OnLinesDropped = dropped => Terminal.Error($"access log: {dropped} line{(dropped == 1 ? "" : "s")} dropped: the log output does not keep up"),
        };
        return settings.AccessLogPath is { } path ? AccessLog.ToFile(path, options) : AccessLog.ToStandardOutput(options);
    }

    /// <summary>At shutdown: says how many lines the access log dropped in all, and why it stopped if it failed.</summary>
    private static void ReportAccessLog(AccessLog? log)
    {
        if (log is null) return;
        if (log.Failure is { } failure) Terminal.Error($"access log: writing to {log.Destination} failed: {failure.Message}");
        if (log.DroppedLines is > 0 and var dropped)
            Terminal.Error($"access log: {dropped} line{(dropped == 1 ? "" : "s")} dropped in all: the log output did not keep up");
    }

    /// <summary>
    /// A loop's handler with the access log around it. The server disposes a per-loop handler's object when that loop
    /// stops; this one passes that on to the handler it wraps (a proxy's upstream pool, say).
    /// </summary>
    private sealed class LoggedHandler(RequestHandler inner, AccessLog log) : IAsyncDisposable
    {
        private readonly RequestHandler _logged = log.Wrap(inner);

        public ValueTask HandleAsync(ServerRequest request, ServerResponse response) => _logged(request, response);

        public ValueTask DisposeAsync() => inner.Target is IAsyncDisposable state ? state.DisposeAsync() : ValueTask.CompletedTask;
    }
}
