// The seed chapter's I/O step ("Les entrées/sorties, le nerf de la guerre"): a browser follows links to a web
// server and mostly waits. Two programs on the Meanwhile loop:
//
//   dotnet run --project examples/SeedIO -- server [--port 8080]     the web server (WebServer.cs)
//   dotnet run --project examples/SeedIO -- browser URL [PAGES]      the browser (Browser.cs)
//   dotnet run --project examples/SeedIO                             both, in one process, on one loop
using Meanwhile;
using Meanwhile.Examples.SeedIO;

switch (args)
{
    case ["server", ..]:
        int port = args is [_, "--port", var p] ? int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) : 8080;
        EventLoop.Run(() => WebServer.RunAsync(port, CancellationToken.None));
        return 0;
    case ["browser", var url, ..]:
        int pages = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 5;
        EventLoop.Run(() => Browser.RunAsync(new Uri(url), pages));
        return 0;
    case []:
        EventLoop.Run(async () =>
        {
            using var stop = new CancellationTokenSource();
            var loop = EventLoop.Current;
            var server = loop.Spawn(() => WebServer.RunAsync(0, stop.Token), "web server");
            await Browser.RunAsync(await WebServer.Address, 5); // while the browser waits, the same loop runs the server
            await stop.CancelAsync();
            await server;
        });
        return 0;
    default:
        Console.Error.WriteLine("usage: SeedIO [server [--port N] | browser URL [PAGES]]");
        return 2;
}
