using System.Net;
using System.Net.Sockets;
using System.Text;
using Meanwhile.Http;

namespace Meanwhile.Http.Client.Tests;

/// <summary>A fake server on raw .NET sockets (thread pool, not the loop under test) that runs a script per connection.</summary>
internal sealed class FakeServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private int _accepted;

    public FakeServer(Func<Socket, int, Task> script)
    {
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptSocketAsync(_stop.Token);
                }
                catch (Exception)
                {
                    return;
                }

                int index = Interlocked.Increment(ref _accepted);
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await script(socket, index);
                    }
                    catch (Exception)
                    {
                        // the client hung up: part of the script's life
                    }
                    finally
                    {
                        socket.Dispose();
                    }
                });
            }
        });
    }

    public int Accepted => Volatile.Read(ref _accepted);

    public Uri Uri(string path = "/") => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}{path}");

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }

    /// <summary>Reads one request head (up to the empty line) and returns it.</summary>
    public static async Task<string> ReadHead(Socket socket)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await socket.ReceiveAsync(one) == 0)
            {
                throw new IOException("closed");
            }

            head.Append((char)one[0]);
        }

        return head.ToString();
    }

    public static Task Send(Socket socket, string text) => socket.SendAsync(Encoding.ASCII.GetBytes(text));

    /// <summary>Waits until the client closes its side (so the server does not close first and turn the test into a race).</summary>
    public static async Task DrainUntilClosed(Socket socket)
    {
        var sink = new byte[4096];
        while (await socket.ReceiveAsync(sink) > 0)
        {
        }
    }
}

/// <summary>Hostile servers: every misbehaviour ends in a typed error, never in a short or silent result (slow ones: <see cref="TimeoutTests"/>).</summary>
public sealed class HostileServerTests
{
    private static readonly LoopHttpClientOptions Quick = new() { RequestTimeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public void A_body_shorter_than_its_content_length_is_an_error()
    {
        using var server = new FakeServer(async (socket, _) =>
        {
            await FakeServer.ReadHead(socket);
            await FakeServer.Send(socket, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
            socket.Shutdown(SocketShutdown.Send);
            await FakeServer.DrainUntilClosed(socket);
        });
        Loops.WithClient(async client =>
        {
            using var response = await client.GetAsync(server.Uri());
            var error = await Loops.Fails(() => response.ReadAsBytesAsync());
            Assert.Equal(LoopHttpErrorKind.IncompleteResponse, error.Kind);
            Assert.Equal(HttpParseErrorKind.None, error.ParseError.Kind);
            Assert.Contains("9 body bytes", error.Message, StringComparison.Ordinal);
        }, Quick);
    }

    [Fact]
    public void A_chunked_body_cut_short_is_an_error()
    {
        using var server = new FakeServer(async (socket, _) =>
        {
            await FakeServer.ReadHead(socket);
            await FakeServer.Send(socket, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nonly");
            socket.Shutdown(SocketShutdown.Send);
            await FakeServer.DrainUntilClosed(socket);
        });
        Loops.WithClient(async client =>
        {
            var error = await Loops.Fails(() => client.GetBytesAsync(server.Uri()));
            Assert.Equal(LoopHttpErrorKind.IncompleteResponse, error.Kind);
        }, Quick);
    }

    [Fact]
    public void A_reset_in_the_middle_of_the_body_is_an_error()
    {
        using var server = new FakeServer(async (socket, _) =>
        {
            await FakeServer.ReadHead(socket);
            await FakeServer.Send(socket, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + new string('x', 1000));
            socket.LingerState = new LingerOption(true, 0); // close with RST
            socket.Close();
        });
        Loops.WithClient(async client =>
        {
            var error = await Loops.Fails(() => client.GetBytesAsync(server.Uri()));
            Assert.True(error.Kind is LoopHttpErrorKind.ConnectionReset or LoopHttpErrorKind.IncompleteResponse, error.ToString());
        }, Quick);
    }

    [Fact]
    public void A_garbage_status_line_is_a_malformed_response_saying_what()
    {
        using var server = new FakeServer(async (socket, _) =>
        {
            await FakeServer.ReadHead(socket);
            await FakeServer.Send(socket, "HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n");
            await FakeServer.DrainUntilClosed(socket);
        });
        Loops.WithClient(async client =>
        {
            var error = await Loops.Fails(() => client.GetAsync(server.Uri()));
            Assert.Equal(LoopHttpErrorKind.MalformedResponse, error.Kind);
            Assert.Equal(HttpParseErrorKind.InvalidStatusLine, error.ParseError.Kind);
            Assert.Contains(error.ParseError.Reason, error.Message, StringComparison.Ordinal);
        }, Quick);
    }

    [Fact]
    public void Conflicting_framing_is_a_malformed_response()
    {
        using var server = new FakeServer(async (socket, _) =>
        {
            await FakeServer.ReadHead(socket);
            await FakeServer.Send(socket, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
            await FakeServer.DrainUntilClosed(socket);
        });
        Loops.WithClient(async client =>
        {
            var error = await Loops.Fails(() => client.GetAsync(server.Uri()));
            Assert.Equal(HttpParseErrorKind.ConflictingFraming, error.ParseError.Kind);
        }, Quick);
    }

    [Fact]
    public void Endless_headers_hit_the_head_limit()
    {
        using var server = new FakeServer(async (socket, _) =>
        {
            await FakeServer.ReadHead(socket);
            await FakeServer.Send(socket, "HTTP/1.1 200 OK\r\n");
            for (int i = 0; ; i++)
            {
                await FakeServer.Send(socket, $"X-Endless-{i}: {new string('v', 100)}\r\n");
            }
        });
        Loops.WithClient(async client =>
        {
            var error = await Loops.Fails(() => client.GetAsync(server.Uri()));
            Assert.Equal(LoopHttpErrorKind.MalformedResponse, error.Kind);
            Assert.True(error.ParseError.Kind is HttpParseErrorKind.HeaderSectionTooLarge or HttpParseErrorKind.TooManyFields, error.ToString());
        }, Quick);
    }

    [Fact]
    public void A_close_before_any_response_is_an_incomplete_response()
    {
        using var server = new FakeServer(async (socket, _) => await FakeServer.ReadHead(socket));
        Loops.WithClient(async client =>
        {
            var error = await Loops.Fails(() => client.GetAsync(server.Uri()));
            Assert.Equal(LoopHttpErrorKind.IncompleteResponse, error.Kind);
        }, Quick);
    }

    [Fact]
    public void A_kept_alive_connection_closed_by_the_server_is_retried_on_a_new_one()
    {
        using var server = new FakeServer(async (socket, _) =>
        {
            await FakeServer.ReadHead(socket);
            await FakeServer.Send(socket, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            socket.Shutdown(SocketShutdown.Both); // gone while the client thinks the connection is idle
        });
        Loops.WithClient(async client =>
        {
            Assert.Equal("ok", await client.GetStringAsync(server.Uri()));
            Assert.Equal("ok", await client.GetStringAsync(server.Uri()));
            Assert.Equal(2, server.Accepted);
        }, Quick);
    }

    [Fact]
    public void Interim_responses_are_skipped()
    {
        using var server = new FakeServer(async (socket, _) =>
        {
            await FakeServer.ReadHead(socket);
            await FakeServer.Send(socket, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal");
            await FakeServer.DrainUntilClosed(socket);
        });
        Loops.WithClient(async client =>
        {
            using var response = await client.GetAsync(server.Uri());
            Assert.Equal(200, response.StatusCode);
            Assert.Equal("final", await response.ReadAsStringAsync());
        }, Quick);
    }

    [Fact]
    public void A_final_answer_to_expect_continue_skips_the_body_and_the_connection()
    {
        var heads = new List<string>();
        using var server = new FakeServer(async (socket, _) =>
        {
            string head = await FakeServer.ReadHead(socket);
            lock (heads)
            {
                heads.Add(head);
            }

            await FakeServer.Send(socket, "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n");
            await FakeServer.DrainUntilClosed(socket);
        });
        Loops.WithClient(async client =>
        {
            var request = new LoopHttpRequest("PUT", server.Uri("/upload")) { Body = RequestBody.FromBytes(new byte[10_000]), ExpectContinue = true };
            using (var response = await client.SendAsync(request))
            {
                Assert.Equal(413, response.StatusCode);
            }

            Assert.Equal(0, client.OpenConnections(server.Uri()));
            Assert.Contains("Expect: 100-continue", Assert.Single(heads), StringComparison.Ordinal);
        }, new LoopHttpClientOptions { ExpectContinueTimeout = TimeSpan.FromSeconds(20) });
    }

    [Fact]
    public void Refused_and_unresolvable_are_typed() => Loops.WithClient(async client =>
    {
        var refused = await Loops.Fails(() => client.GetAsync(new Uri($"http://127.0.0.1:{FreePort.Get()}/")));
        Assert.Equal(LoopHttpErrorKind.ConnectionRefused, refused.Kind);
        var unknown = await Loops.Fails(() => client.GetAsync(new Uri("http://no-such-host.invalid/")));
        Assert.Equal(LoopHttpErrorKind.NameResolution, unknown.Kind);
    });
}
