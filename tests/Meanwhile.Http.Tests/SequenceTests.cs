using System.Buffers;

namespace Meanwhile.Http.Tests;

public sealed class SequenceTests
{
    [Fact]
    public void Multi_segment_sequence_parses_like_a_span()
    {
        byte[] raw = Latin1.Bytes("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        for (int segmentLength = 1; segmentLength <= 16; segmentLength++)
        {
            ReadOnlySequence<byte> input = Segments(raw, segmentLength);
            using var parser = new HttpRequestParser();
            var targets = new List<string>();
            var body = new List<byte>();
            while (true)
            {
                HttpParseStatus status = parser.Parse(input, out SequencePosition consumed, out ReadOnlySequence<byte> piece);
                input = input.Slice(consumed);
                if (status == HttpParseStatus.NeedMoreData)
                {
                    Assert.True(input.IsEmpty);
                    break;
                }

                Assert.NotEqual(HttpParseStatus.Error, status);
                body.AddRange(piece.ToArray());
                if (status == HttpParseStatus.MessageComplete)
                {
                    targets.Add(Latin1.Text(parser.Head.Target));
                }
            }

            Assert.Equal(["/a", "/b"], targets);
            Assert.Equal("0123456789", Latin1.Text([.. body]));
        }
    }

    [Fact]
    public void Empty_sequence_can_complete_a_bodiless_message()
    {
        using var parser = new HttpRequestParser();
        Assert.Equal(HttpParseStatus.HeadComplete, parser.Parse(new ReadOnlySequence<byte>(Latin1.Bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), out _, out _));
        Assert.Equal(HttpParseStatus.MessageComplete, parser.Parse(ReadOnlySequence<byte>.Empty, out _, out _));
    }

    private static ReadOnlySequence<byte> Segments(byte[] data, int segmentLength)
    {
        var first = new Segment(data.AsMemory(0, Math.Min(segmentLength, data.Length)), 0);
        Segment last = first;
        for (int at = segmentLength; at < data.Length; at += segmentLength)
        {
            last = last.Append(data.AsMemory(at, Math.Min(segmentLength, data.Length - at)));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
