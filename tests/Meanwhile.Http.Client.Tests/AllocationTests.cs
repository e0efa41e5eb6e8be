using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Xunit.Abstractions;

namespace Meanwhile.Http.Client.Tests;

public sealed class AllocationTests(ITestOutputHelper output)
{
    /// <summary>
    /// A warm keep-alive GET — send, response head, body read through <see cref="LoopHttpResponse.Content"/>,
    /// dispose — allocates only what the caller keeps: the response and its body stream (about 120 bytes). The
    /// server is a blocking socket on its own thread, so only the client's loop thread is counted.
    /// </summary>
    [EpollFact]
    public void A_warm_keep_alive_get_allocates_only_its_response()
    {
        const int warm = 2000, measured = 20000;
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var server = new Thread(() => Serve(listener, warm + measured)) { IsBackground = true, Name = "raw server" };
        server.Start();
        var uri = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}/plaintext");
        double perRequest = 0;
        ClientLoops.WithClient(async client =>
        {
            var request = new LoopHttpRequest("GET", uri);
            var buffer = new byte[256];
            long before = 0;
            for (int i = 0; i < warm + measured; i++)
            {
                if (i == warm)
                {
                    before = GC.GetAllocatedBytesForCurrentThread();
                }

                using var response = await client.SendAsync(request);
                int length = 0;
                int n;
                while ((n = await response.Content.ReadAsync(buffer)) > 0)
                {
                    length += n;
                }

                if (length != 13 || response.StatusCode != 200)
                {
                    throw new InvalidOperationException($"unexpected response {response.StatusCode}, {length} bytes");
                }
            }

            perRequest = (double)(GC.GetAllocatedBytesForCurrentThread() - before) / measured;
            Assert.Equal(1, client.OpenConnections(uri));
        }, new LoopHttpClientOptions { AutomaticDecompression = false, UserAgent = null });
        server.Join(TimeSpan.FromSeconds(10));

        output.WriteLine($"{perRequest:0.#} bytes allocated per request on the loop thread");
        // A Debug build compiles async state machines as classes (the test's own loop allocates one per await); the
        // bound that matters is for optimized builds: dotnet test -c Release.
        bool optimized = typeof(LoopHttpClient).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled != true;
        output.WriteLine(optimized ? "optimized build" : "debug build");
        Assert.True(perRequest < (optimized ? 160 : 2048), $"{perRequest:0.#} bytes per request");
    }

    /// <summary>Answers <paramref name="requests"/> GETs on one kept-alive connection with a fixed 13-byte body.</summary>
    private static void Serve(Socket listener, int requests)
    {
        using var connection = listener.Accept();
        var response = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!");
        var input = new byte[4096];
        int have = 0;
        for (int served = 0; served < requests;)
        {
            int n = connection.Receive(input, have, input.Length - have, SocketFlags.None);
            if (n == 0)
            {
                return;
            }

            have += n;
            int end;
            while ((end = input.AsSpan(0, have).IndexOf("\r\n\r\n"u8)) >= 0)
            {
                connection.Send(response);
                served++;
                have -= end + 4;
                input.AsSpan(end + 4, have).CopyTo(input);
            }
        }
    }
}
