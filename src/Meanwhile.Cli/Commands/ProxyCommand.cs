using System.CommandLine;
using System.CommandLine.Parsing;
using Meanwhile.Http.Proxy;
using Meanwhile.Http.Server;

namespace Meanwhile.Cli;

/// <summary><c>meanwhile proxy --to http://host:port [--to …]</c>: a reverse proxy in front of one or more upstreams.</summary>
internal static class ProxyCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var to = new Option<Uri[]>("--to")
        {
            Description = "An upstream, as http://host:port; repeat for several (requests are spread over them)",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
            HelpName = "url",
            CustomParser = ParseUpstreams,
        };
        var balance = new Option<ProxyBalancing>("--balance")
        {
            Description = "How an upstream is picked: round-robin or least-outstanding (fewest requests in flight)",
            HelpName = "round-robin|least-outstanding",
            CustomParser = ParseBalancing,
            DefaultValueFactory = _ => ProxyBalancing.RoundRobin,
        };
        var preserveHost = new Option<bool>("--preserve-host") { Description = "Send the client's Host to the upstream instead of the upstream's own" };
        var healthPath = new Option<string?>("--health-check") { Description = "A path to GET on every upstream every 5 s; a failing upstream is skipped until it answers 2xx or 3xx", HelpName = "path" };
        healthPath.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && !result.Tokens[0].Value.StartsWith('/')) result.AddError($"--health-check takes a path starting with '/', not '{result.Tokens[0].Value}'.");
        });
        var connectTimeout = Options.Duration("--connect-timeout", null, "How long connecting to an upstream may take (then 502, or the next upstream)", TimeSpan.FromSeconds(5));
        var responseTimeout = Options.Duration("--response-timeout", null, "How long an upstream may take to start its response (then 504)", TimeSpan.FromSeconds(60));
        var tunnelTimeout = Options.Duration("--tunnel-timeout", null, "How long an upgraded connection (a WebSocket) may pass no byte either way before it is closed", TimeSpan.FromSeconds(60));
        var server = new ServerOptions("No access log (for benchmarks)");
        var command = new Command("proxy", """
            A reverse proxy: forwards every request to an upstream (--to) and relays its response, bodies streamed both
            ways, over kept-alive upstream connections; logs each request. 502 or 504 when an upstream fails, saying
            which; idempotent requests go to another upstream when one fails before answering. Upgrades (WebSocket) the
            upstream accepts become tunnels. Ctrl+C stops it gracefully.
            """)
        { to, balance, preserveHost, healthPath, connectTimeout, responseTimeout, tunnelTimeout };
        server.AddTo(command);
        command.SetAction((parse, _) =>
        {
            var settings = server.Read(parse);
            var options = new ProxyOptions
            {
                Upstreams = parse.GetValue(to)!,
                Balancing = parse.GetValue(balance),
                PreserveHost = parse.GetValue(preserveHost),
                HealthProbePath = parse.GetValue(healthPath),
                ConnectTimeout = parse.GetValue(connectTimeout).Value,
                ResponseHeadTimeout = parse.GetValue(responseTimeout).Value,
                TunnelIdleTimeout = parse.GetValue(tunnelTimeout).Value,
            };
            string what = $"proxy to {string.Join(", ", options.Upstreams.Select(u => u.GetLeftPart(UriPartial.Authority)))}";
            // One handler per loop, each with its own upstream pool; ServerHost puts serve's access log around it.
            return ServerHost.RunAsync(what, _ => new ProxyHandler(options).HandleAsync, settings, serverHeader: null);
        });
        return command;
    }

    private static Uri[] ParseUpstreams(ArgumentResult result)
    {
        var upstreams = new List<Uri>();
        foreach (var token in result.Tokens)
        {
            if (!Uri.TryCreate(token.Value, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
            {
                result.AddError($"--to takes an upstream such as http://127.0.0.1:8080, not '{token.Value}'.");
                continue;
            }
            if (uri.AbsolutePath != "/" || uri.Query.Length > 0)
            {
                result.AddError($"--to takes a scheme, host and port without a path: '{token.Value}' has one, which the proxy does not prefix.");
                continue;
            }
            upstreams.Add(uri);
        }
        return [.. upstreams];
    }

    private static ProxyBalancing ParseBalancing(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        switch (text)
        {
            case "round-robin": return ProxyBalancing.RoundRobin;
            case "least-outstanding": return ProxyBalancing.LeastOutstanding;
            default:
                result.AddError($"--balance takes round-robin or least-outstanding, not '{text}'.");
                return default;
        }
    }
}
