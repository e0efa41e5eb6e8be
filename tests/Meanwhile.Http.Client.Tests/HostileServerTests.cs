using System.Diagnostics;
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

/// <summary>Hostile servers: every misbehaviour ends in a typed error, within its timeout, never in a short or silent result.</summary>
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
    public void A_slow_drip_head_hits_the_response_headers_timeout()
    {
        using var server = new FakeServer(async (socket, _) =>
        {
            await FakeServer.ReadHead(socket);
            foreach (char c in "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            {
                await FakeServer.Send(socket, c.ToString());
                await Task.Delay(200); // the misbehaviour under test: a byte at a time
            }
        });
        Loops.WithClient(async client =>
        {
            var clock = Stopwatch.StartNew();
            var error = await Loops.Fails(() => client.GetAsync(server.Uri()));
            Assert.Equal(LoopHttpErrorKind.ResponseHeadersTimeout, error.Kind);
            Assert.True(error.IsTimeout);
            Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(5));
        }, new LoopHttpClientOptions { ResponseHeadersTimeout = TimeSpan.FromMilliseconds(500) });
    }

    [Fact]
    public void A_slow_drip_body_hits_the_request_timeout()
    {
        using var server = new FakeServer(async (socket, _) =>
        {
            await FakeServer.ReadHead(socket);
            await FakeServer.Send(socket, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
            for (int i = 0; i < 1000; i++)
            {
                await FakeServer.Send(socket, "x");
                await Task.Delay(100);
            }
        });
        Loops.WithClient(async client =>
        {
            // The head comes at once and the body would take 100 s: 2 s leaves the head time to arrive on a busy
            // machine (at 600 ms the test failed once in a full parallel run, most likely so), so the timeout lands in the body.
            using var response = await client.GetAsync(server.Uri());
            var error = await Loops.Fails(() => response.ReadAsBytesAsync());
            Assert.Equal(LoopHttpErrorKind.RequestTimeout, error.Kind);
        }, new LoopHttpClientOptions { RequestTimeout = TimeSpan.FromSeconds(2) });
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

    [Fact]
    public void A_connect_that_never_completes_hits_the_connect_timeout()
    {
        // A listener with a full backlog never completes new handshakes: SYNs are dropped.
        using var blocker = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        blocker.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        blocker.Listen(0);
        var port = ((IPEndPoint)blocker.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        try
        {
            for (int i = 0; i < 8; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                fillers.Add(filler);
                try
                {
                    filler.Connect(new IPEndPoint(IPAddress.Loopback, port));
                }
                catch (SocketException)
                {
                    // in progress
                }
            }

            Loops.WithClient(async client =>
            {
                var error = await Loops.Fails(() => client.GetAsync(new Uri($"http://127.0.0.1:{port}/")));
                Assert.Equal(LoopHttpErrorKind.ConnectTimeout, error.Kind);
            }, new LoopHttpClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300) });
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }
}
