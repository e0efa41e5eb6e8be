// Kestrel peer for bench/server/run.sh: "Hello, World!" as text/plain.
//
//   KestrelHello --port 8082 [--mode mapget|raw] [--tls-cert cert.pem --tls-key key.pem]
//
// mapget (default): the minimal API, app.MapGet("/", () => "Hello, World!") (routing + endpoint middleware;
//                   Content-Type: text/plain; charset=utf-8).
// raw:              one terminal middleware writing the bytes (no routing), Kestrel's best case.
// Logging is cleared so the console logger costs nothing.
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

int port = 8082;
string mode = "mapget";
string? tlsCertificate = null, tlsKey = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port": port = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--mode": mode = args[++i]; break;
        case "--tls-cert": tlsCertificate = args[++i]; break;
        case "--tls-key": tlsKey = args[++i]; break;
        default:
            Console.Error.WriteLine("usage: KestrelHello [--port N] [--mode mapget|raw]");
            return 2;
    }
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(options => options.ListenLocalhost(port, listen =>
{
    if (tlsCertificate is not null)
        listen.UseHttps(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(tlsCertificate, tlsKey));
}));
var app = builder.Build();
if (mode == "raw")
{
    byte[] hello = "Hello, World!"u8.ToArray();
    app.Run(context =>
    {
        context.Response.ContentType = "text/plain";
        context.Response.ContentLength = hello.Length;
        return context.Response.Body.WriteAsync(hello, 0, hello.Length);
    });
}
else
{
    app.MapGet("/", () => "Hello, World!");
}
Console.WriteLine($"listening on 127.0.0.1:{port} (Kestrel, {mode})");
await app.RunAsync();
return 0;
