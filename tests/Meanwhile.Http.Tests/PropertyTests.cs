using System.Buffers;
using System.Globalization;
using CsCheck;

namespace Meanwhile.Http.Tests;

/// <summary>Random valid messages: serialize, parse back, compare; and parse at random splits, compare with whole.</summary>
public sealed class PropertyTests
{
    private const string TokenChars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const string HostChars = "abcdefghijklmnopqrstuvwxyz0123456789-._~";
    private static readonly string[] ReservedNames = ["host", "content-length", "transfer-encoding", "connection", "expect"];

    private static readonly Gen<string> Token = Gen.OneOf(TokenChars.ToCharArray()).Array[1, 12].Select(c => new string(c));

    private static readonly Gen<string> FieldName = Token.Where(n => !ReservedNames.Contains(n.ToLowerInvariant()));

    // field-vchar and obs-text with SP/HTAB inside; the ends are trimmed since a parser drops surrounding whitespace.
    private static readonly Gen<string> FieldValue = Gen.OneOf(Gen.Byte[0x21, 0x7E], Gen.Byte[0x80, 0xFF], Gen.OneOf((byte)' ', (byte)'\t'))
        .Array[0, 24]
        .Select(b => Latin1.Text(b).Trim(' ', '\t'));

    // origin-form (RFC 9112 3.2.1): pchar, "/" and "?", and escapes such as %C3%A9 for what URI syntax leaves out.
    private const string PathChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?";

    private static readonly Gen<string> Target = Gen.OneOf(
            Gen.OneOf(PathChars.ToCharArray()).Select(c => c.ToString()),
            Gen.Byte.Select(b => "%" + b.ToString("X2", CultureInfo.InvariantCulture)))
        .Array[0, 30]
        .Select(pieces => "/" + string.Concat(pieces));

    private static readonly Gen<(string Name, string Value)> Field = Gen.Select(FieldName, FieldValue);

    private static readonly Gen<RequestModel> Request =
        from method in Token
        from target in Target
        from http10 in Gen.Bool
        from host in Gen.OneOf(HostChars.ToCharArray()).Array[1, 15].Select(c => new string(c))
        from fields in Field.List[0, 8]
        from body in Gen.Byte.Array[0, 200]
        from chunked in Gen.Bool
        from cuts in Gen.Int[1, 40].Array[0, 6]
        from extensions in Gen.Bool
        from trailers in Field.List[0, 3]
        select new RequestModel(method, target, http10, host, fields, body, chunked && !http10, cuts, extensions, trailers);

    [Fact]
    public void Serialized_requests_parse_back_to_the_same_request()
    {
        Request.Sample(
            model =>
            {
                Transcript transcript = ConnectionDriver.Requests([model.Serialize()]);
                Assert.True(transcript.Ending != Ending.Error, transcript.ToString());
                model.AssertMatches(Assert.Single(transcript.Messages));
            },
            iter: 500);
    }

    [Fact]
    public void Pipelined_requests_parse_the_same_at_random_splits()
    {
        Gen.Select(Request.List[1, 4], Gen.Int[1, 64].Array[1, 30])
            .Sample(
                (models, cuts) =>
                {
                    // Keep-alive on all but maybe the last, so every request is read.
                    byte[] raw = [.. models.SelectMany((m, i) => m.Serialize(keepAlive: true))];
                    Transcript whole = ConnectionDriver.Requests([raw]);
                    Assert.Equal(models.Count, whole.Messages.Count);
                    for (int i = 0; i < models.Count; i++)
                    {
                        models[i].AssertMatches(whole.Messages[i]);
                    }

                    Transcript split = ConnectionDriver.Requests(Cut(raw, cuts));
                    Assert.Equal(whole.ToString(), split.ToString());
                },
                iter: 300);
    }

    [Fact]
    public void Serialized_responses_parse_back_at_random_splits()
    {
        Gen.Select(Gen.Int[200, 599], FieldValue, Field.List[0, 6], Gen.Byte.Array[0, 200], Gen.Bool, Gen.Int[1, 64].Array[1, 20])
            .Sample(
                (status, reason, fields, body, chunked, cuts) =>
                {
                    if (status is 204 or 304)
                    {
                        return;
                    }

                    var output = new ArrayBufferWriter<byte>();
                    HttpHeadWriter.WriteStatusLine(output, HttpProtocolVersion.Http11, status, Latin1.Bytes(reason));
                    foreach ((string name, string value) in fields)
                    {
                        HttpHeadWriter.WriteField(output, name, value);
                    }

                    if (chunked)
                    {
                        HttpHeadWriter.WriteChunkedTransferEncoding(output);
                        HttpHeadWriter.WriteEndOfHead(output);
                        HttpChunkedWriter.WriteChunk(output, body);
                        HttpChunkedWriter.WriteLastChunk(output);
                    }
                    else
                    {
                        HttpHeadWriter.WriteContentLength(output, body.Length);
                        HttpHeadWriter.WriteEndOfHead(output);
                        output.Write(body);
                    }

                    byte[] raw = output.WrittenSpan.ToArray();
                    Transcript whole = ConnectionDriver.Responses([raw]);
                    ParsedMessage response = Assert.Single(whole.Messages);
                    Assert.Equal(status.ToString(CultureInfo.InvariantCulture), response.StartLine[1]);
                    Assert.Equal(reason, response.StartLine[2]);
                    Assert.Equal(body, response.Body);
                    Assert.Equal(fields, response.Headers.Take(fields.Count));
                    Assert.Equal(whole.ToString(), ConnectionDriver.Responses(Cut(raw, cuts)).ToString());
                },
                iter: 300);
    }

    [Fact]
    public void Random_bytes_never_crash_the_parser_and_split_the_same()
    {
        // Mostly-valid prefixes with random tails: the parser must answer with an event, never throw.
        Gen.Select(Request, Gen.Byte.Array[0, 40], Gen.Int[1, 16].Array[1, 10])
            .Sample(
                (model, tail, cuts) =>
                {
                    byte[] raw = [.. model.Serialize(keepAlive: true), .. tail];
                    Transcript whole = ConnectionDriver.Requests([raw]);
                    Assert.NotEmpty(whole.Messages);
                    Assert.Equal(whole.ToString(), ConnectionDriver.Requests(Cut(raw, cuts)).ToString());
                },
                iter: 500);
    }

    private static byte[][] Cut(byte[] raw, int[] lengths)
    {
        var pieces = new List<byte[]>();
        int at = 0;
        foreach (int length in lengths)
        {
            if (at >= raw.Length)
            {
                break;
            }

            int take = Math.Min(length, raw.Length - at);
            pieces.Add(raw[at..(at + take)]);
            at += take;
        }

        if (at < raw.Length)
        {
            pieces.Add(raw[at..]);
        }

        return [.. pieces];
    }

    /// <summary>A request as generated: what it should parse back to, and how to put it on the wire.</summary>
    private sealed record RequestModel(
        string Method,
        string Target,
        bool Http10,
        string Host,
        List<(string Name, string Value)> Fields,
        byte[] Body,
        bool Chunked,
        int[] Cuts,
        bool Extensions,
        List<(string Name, string Value)> Trailers)
    {
        internal byte[] Serialize(bool keepAlive = false)
        {
            var output = new ArrayBufferWriter<byte>();
            HttpHeadWriter.WriteRequestLine(output, Latin1.Bytes(Method), Latin1.Bytes(Target), Http10 ? HttpProtocolVersion.Http10 : HttpProtocolVersion.Http11);
            HttpHeadWriter.WriteField(output, "Host", Host);
            foreach ((string name, string value) in Fields)
            {
                HttpHeadWriter.WriteField(output, name, value);
            }

            if (keepAlive && Http10)
            {
                HttpHeadWriter.WriteField(output, "Connection"u8, "keep-alive"u8);
            }

            if (!Chunked)
            {
                HttpHeadWriter.WriteContentLength(output, Body.Length);
                HttpHeadWriter.WriteEndOfHead(output);
                output.Write(Body);
                return output.WrittenSpan.ToArray();
            }

            HttpHeadWriter.WriteChunkedTransferEncoding(output);
            HttpHeadWriter.WriteEndOfHead(output);
            int at = 0;
            foreach (int cut in Cuts.Append(int.MaxValue))
            {
                int size = Math.Min(cut, Body.Length - at);
                if (size <= 0)
                {
                    break;
                }

                if (Extensions)
                {
                    // Uppercase hex, leading zeros and extensions: all valid, all to be ignored.
                    output.Write(Latin1.Bytes($"0{size:X};ext-{size}=\"q \\\" {size}\"; flag ;v=tok\r\n"));
                    output.Write(Body.AsSpan(at, size));
                    output.Write("\r\n"u8);
                }
                else
                {
                    HttpChunkedWriter.WriteChunk(output, Body.AsSpan(at, size));
                }

                at += size;
            }

            HttpChunkedWriter.WriteLastChunkBeforeTrailers(output);
            foreach ((string name, string value) in Trailers)
            {
                HttpHeadWriter.WriteField(output, name, value);
            }

            HttpHeadWriter.WriteEndOfHead(output);
            return output.WrittenSpan.ToArray();
        }

        internal void AssertMatches(ParsedMessage parsed)
        {
            Assert.Equal([Method, Target, Http10 ? "HTTP/1.0" : "HTTP/1.1"], parsed.StartLine);
            Assert.Equal(("Host", Host), parsed.Headers[0]);
            Assert.Equal(Fields, parsed.Headers.Skip(1).Take(Fields.Count));
            Assert.Equal(Body, parsed.Body);
            Assert.Equal(Chunked ? HttpBodyFraming.Chunked : HttpBodyFraming.ContentLength, parsed.Framing);
            Assert.Equal(Chunked ? Trailers : [], parsed.Trailers);
        }
    }
}
