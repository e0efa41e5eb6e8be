// YarpProxy PORT UPSTREAM_URL: YARP's reverse proxy on Kestrel, one route to one cluster, logging off, as a peer
// for bench/proxy.sh.
using Yarp.ReverseProxy.Configuration;

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(kestrel => kestrel.ListenLocalhost(int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture)));
builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "all", ClusterId = "upstream", Match = new RouteMatch { Path = "{**rest}" } }],
    [new ClusterConfig { ClusterId = "upstream", Destinations = new Dictionary<string, DestinationConfig> { ["one"] = new() { Address = args[1] } } }]);
var app = builder.Build();
app.MapReverseProxy();
app.Run();
