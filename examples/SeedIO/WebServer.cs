using System.Net;
using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Examples.SeedIO;

/// <summary>The web server of the seed's diagram: accept, read the request, build the response (slowly), send it.</summary>
internal static class WebServer
{
    private static readonly TaskCompletionSource<Uri> Listening = new();

    /// <summary>Where the server listens, once it does.</summary>
    public static Task<Uri> Address => Listening.Task;

    public static async Task RunAsync(int port, CancellationToken stop)
    {
        var loop = EventLoop.Current;
        var router = new Router().MapGet("/page/{n}", async (request, response) =>
        {
            // [réception de la requête] → [création de la réponse]: a page that takes 100 ms to build (a database,
            // say). The loop is free meanwhile: other connections are accepted and answered.
            await loop.Delay(TimeSpan.FromMilliseconds(100));
            response.AddHeader("Content-Type", "text/html; charset=utf-8");
            response.Write(Encoding.UTF8.GetBytes($"<h1>Page {request.GetRouteValue("n")}</h1>"));
        }); // [envoi de la réponse]: the connection writes what the handler wrote

        var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Loopback, port)); // [connexion reçue/acceptée]
        var address = new Uri($"http://127.0.0.1:{listener.Port}/");
        Console.WriteLine($"listening on {address}");
        Listening.TrySetResult(address);
        await HttpServer.ServeAsync(listener, router.HandleAsync, stopping: stop);
    }
}
