using System.CommandLine;
using Meanwhile.Http.Server;

namespace Meanwhile.Cli;

/// <summary>What <c>serve</c> and <c>echo</c> are told about listening and stopping, as read from the command line.</summary>
/// <param name="Host">Address to listen on.</param>
/// <param name="Port">Port (0: any free one).</param>
/// <param name="Loops">Event loops.</param>
/// <param name="AccessLog">Log one line per request.</param>
/// <param name="AccessLogPath">The log file; null for standard output.</param>
/// <param name="LogFormat">The access log's line format.</param>
/// <param name="ShutdownTimeout">How long requests in flight may take once a signal asked the server to stop.</param>
/// <param name="Tls">HTTPS: the certificate files, or a self-signed certificate; null for plain HTTP.</param>
/// <param name="Diagnostics">Whether the loops show to <c>meanwhile ps</c> and <c>meanwhile top</c>.</param>
internal sealed record ServerSettings(string Host, int Port, int Loops, bool AccessLog, string? AccessLogPath, AccessLogFormat LogFormat, Duration ShutdownTimeout, ServerTlsSettings? Tls = null, bool Diagnostics = true);

/// <summary>HTTPS for <c>serve</c> and <c>echo</c>: PEM files (<c>--tls-cert</c>, <c>--tls-key</c>), or <c>--tls-self-signed</c>.</summary>
/// <param name="CertificatePath">The certificate chain, PEM; null with <paramref name="SelfSigned"/>.</param>
/// <param name="KeyPath">Its private key, PEM; null with <paramref name="SelfSigned"/>.</param>
/// <param name="SelfSigned">Make a certificate for localhost and 127.0.0.1 at start-up.</param>
internal sealed record ServerTlsSettings(string? CertificatePath, string? KeyPath, bool SelfSigned);

/// <summary>The options <c>serve</c> and <c>echo</c> share: where to listen, how many loops, the access log, the shutdown timeout.</summary>
internal sealed class ServerOptions
{
    private readonly Option<string> _host = Options.Host();
    private readonly Option<int> _port = Options.Port(8080);
    private readonly Option<int> _loops = Options.Loops();
    private readonly Option<bool> _quiet;
    private readonly Option<string?> _accessLog = new("--access-log")
    {
        Description = "Append the access log to this file (or FIFO, or device) instead of standard output; lines the output cannot take in time are dropped and counted, never waited for",
        HelpName = "file",
    };
    private readonly Option<AccessLogFormat> _logFormat = new("--log-format")
    {
        Description = "The access log's format: common, combined (nginx's default) or json",
        DefaultValueFactory = _ => AccessLogFormat.Combined,
        HelpName = "common|combined|json",
        CustomParser = result =>
        {
            string text = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
            if (Enum.TryParse<AccessLogFormat>(text, ignoreCase: true, out var format) && !char.IsDigit(text.FirstOrDefault())) return format;
            result.AddError($"--log-format takes common, combined or json, not '{text}'.");
            return default;
        },
    };
    private readonly Option<Duration> _shutdownTimeout = Options.Duration(
        "--shutdown-timeout", null,
        "On Ctrl+C or SIGTERM, how long requests in flight may take before their connections are cut (exit code 1 if any is); a second signal stops at once",
        TimeSpan.FromSeconds(5), allowZero: true);
    private readonly Option<bool> _noDiagnostics = new("--no-diagnostics")
    {
        Description = "Keep the loops out of `meanwhile ps` and `meanwhile top` (no diagnostics endpoint, no per-task timing)",
    };

    private readonly Option<FileInfo?> _tlsCertificate = new("--tls-cert") { Description = "Serve HTTPS with this certificate (PEM: the server's certificate, then its chain); SIGHUP reloads it", HelpName = "file" };
    private readonly Option<FileInfo?> _tlsKey = new("--tls-key") { Description = "The private key of --tls-cert (PEM)", HelpName = "file" };
    private readonly Option<bool> _tlsSelfSigned = new("--tls-self-signed") { Description = "Serve HTTPS with a new certificate for localhost and 127.0.0.1; prints its SHA-256 fingerprint and where it wrote it" };

    /// <summary>Creates the options; <paramref name="quietDescription"/> says what <c>--quiet</c> is for in this command.</summary>
    public ServerOptions(string quietDescription) => _quiet = new Option<bool>("--quiet", "-q") { Description = quietDescription };

    /// <summary>Adds them to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(_host);
        command.Options.Add(_port);
        command.Options.Add(_loops);
        command.Options.Add(_quiet);
        command.Options.Add(_accessLog);
        command.Options.Add(_logFormat);
        command.Options.Add(_shutdownTimeout);
        command.Options.Add(_tlsCertificate);
        command.Options.Add(_tlsKey);
        command.Options.Add(_tlsSelfSigned);
        command.Options.Add(_noDiagnostics);
        command.Validators.Add(result =>
        {
            bool certificate = result.GetValue(_tlsCertificate) is not null, key = result.GetValue(_tlsKey) is not null;
            if (result.GetValue(_tlsSelfSigned) && (certificate || key)) result.AddError("--tls-self-signed makes its own certificate: leave out --tls-cert and --tls-key.");
            else if (certificate != key) result.AddError("--tls-cert and --tls-key go together: the certificate and its private key.");
        });
    }

    /// <summary>Their values in <paramref name="parse"/>.</summary>
    public ServerSettings Read(ParseResult parse)
    {
        var tls = parse.GetValue(_tlsSelfSigned) ? new ServerTlsSettings(null, null, true)
            : parse.GetValue(_tlsCertificate) is { } certificate ? new ServerTlsSettings(certificate.FullName, parse.GetValue(_tlsKey)!.FullName, false)
            : null;
        return new(parse.GetValue(_host)!, parse.GetValue(_port), parse.GetValue(_loops), !parse.GetValue(_quiet), parse.GetValue(_accessLog),
            parse.GetValue(_logFormat), parse.GetValue(_shutdownTimeout), tls, !parse.GetValue(_noDiagnostics));
    }
}
