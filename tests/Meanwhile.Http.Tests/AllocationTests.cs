using System.Buffers;

namespace Meanwhile.Http.Tests;

/// <summary>
/// A warm parser allocates nothing per message. Allocation counts are deterministic (unlike timings), so this
/// is a correctness check of the design, not a performance assertion.
/// </summary>
/// <remarks>
/// The parser's buffers come from <see cref="ArrayPool{T}.Shared"/>, whose per-core stacks every thread of the process
/// shares: a parser test running beside these could take a buffer one of them had returned there, and the next rent
/// would allocate (seen once: 2,408 B). So these run alone.
/// </remarks>
[Collection(nameof(AllocationTests))]
public sealed class AllocationTests
{
    private static readonly byte[] Pipeline = Latin1.Bytes(
        "POST /upload?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test\r\nConnection: keep-alive\r\nExpect: 100-continue\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n5;ext=\"v\"\r\nhello\r\n0\r\nTrailer: t\r\n\r\n"
        + "GET /a HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"
        + "PUT /b HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\n\r\nabc");

    [Fact]
    public void Warm_request_parser_allocates_nothing_per_message()
    {
        using var parser = new HttpRequestParser();
        long bodyBytes = ParseAll(parser, Pipeline, pieceLength: Pipeline.Length);
        ParseAll(parser, Pipeline, pieceLength: 7);

        long total = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            total += ParseAll(parser, Pipeline, pieceLength: Pipeline.Length);
            total += ParseAll(parser, Pipeline, pieceLength: 7);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(200 * bodyBytes, total);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Warm_response_parser_allocates_nothing_per_message()
    {
        byte[] raw = Latin1.Bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: x\r\n\r\nokHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
        using var parser = new HttpResponseParser();
        ParseAll(parser, raw, 5);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            ParseAll(parser, raw, 5);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static long ParseAll(HttpMessageParser parser, byte[] raw, int pieceLength)
    {
        long body = 0;
        for (int at = 0; at < raw.Length; at += pieceLength)
        {
            ReadOnlySpan<byte> data = raw.AsSpan(at, Math.Min(pieceLength, raw.Length - at));
            while (true)
            {
                HttpParseStatus status = parser.Parse(data, out int consumed, out ReadOnlySpan<byte> piece);
                data = data[consumed..];
                body += piece.Length;
                if (status == HttpParseStatus.NeedMoreData)
                {
                    break;
                }

                if (status == HttpParseStatus.Error)
                {
                    throw new InvalidOperationException(parser.Error.ToString());
                }
            }
        }

        return body;
    }
}

[CollectionDefinition(nameof(AllocationTests), DisableParallelization = true)]
public sealed class AllocationTestsCollection;
