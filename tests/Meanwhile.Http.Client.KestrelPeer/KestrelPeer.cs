using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meanwhile.Http.Client.KestrelPeer;

/// <summary>A minimal ASP.NET Core app on Kestrel, bound to 127.0.0.1 on a free port.</summary>
public sealed class KestrelPeer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private KestrelPeer(WebApplication app, int port)
    {
        this._app = app;
        Port = port;
    }

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    /// <summary>Starts the app: <c>/hello</c>, <c>/echo</c> (POST body back, with its length), <c>/stream?n=</c> (n bytes written in pieces, chunked), <c>/redirect</c>.</summary>
    /// <returns>The running peer.</returns>
    public static async Task<KestrelPeer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapGet("/hello", () => "Hello from Kestrel");
        app.MapPost("/echo", async (HttpContext context) =>
        {
            using var copy = new MemoryStream();
            await context.Request.Body.CopyToAsync(copy);
            context.Response.Headers["X-Received-Length"] = copy.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers["X-Request-Chunked"] = context.Request.Headers.TransferEncoding.ToString();
            await context.Response.Body.WriteAsync(copy.ToArray());
        });
        app.MapGet("/stream", async (HttpContext context, int n) =>
        {
            var piece = new byte[1000];
            for (int sent = 0; sent < n; sent += piece.Length)
            {
                int size = Math.Min(piece.Length, n - sent);
                piece.AsSpan(0, size).Fill((byte)('a' + (sent / piece.Length % 26)));
                await context.Response.Body.WriteAsync(piece.AsMemory(0, size));
                await context.Response.Body.FlushAsync();
            }
        });
        app.MapGet("/redirect", () => Results.Redirect("/hello"));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new KestrelPeer(app, new Uri(address).Port);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
