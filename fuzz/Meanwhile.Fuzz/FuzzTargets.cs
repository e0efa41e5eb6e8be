using System.Buffers;
using System.Text.Json;
using Meanwhile.Http;
using Meanwhile.Http.Server;

namespace Meanwhile.Fuzz;

/// <summary>
/// The fuzz targets. Each takes arbitrary bytes and throws <see cref="FuzzFindingException"/> (or anything else)
/// only when the code under test is wrong: a parse error is a correct answer to bad input, not a finding.
/// </summary>
/// <remarks>
/// Beyond crashes, each target checks oracles a crash-only harness would miss: the same bytes read whole, one byte
/// at a time and at data-driven cuts must give the same messages (the incremental parser has no split-dependent
/// state), every accepted request must survive a serialize-then-parse round trip, and the echo server's JSON for it
/// must be valid JSON.
/// </remarks>
public static class FuzzTargets
{
    /// <summary>The head the chunked target puts before its input, so the input is read as a chunked body.</summary>
    public static ReadOnlySpan<byte> ChunkedHead => "POST /upload HTTP/1.1\r\nHost: fuzz\r\nTransfer-Encoding: chunked\r\n\r\n"u8;

    /// <summary>The names the harness knows, as the command line takes them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["request", "chunked", "response"];

    /// <summary>Runs the target called <paramref name="name"/>.</summary>
    /// <param name="name">One of <see cref="Names"/>.</param>
    /// <param name="data">The input.</param>
    public static void Run(string name, ReadOnlySpan<byte> data)
    {
        switch (name)
        {
            case "request": Requests(data); break;
            case "chunked": ChunkedBody(data); break;
            case "response": Responses(data); break;
            default: throw new ArgumentException($"unknown target '{name}'; known: {string.Join(", ", Names)}", nameof(name));
        }
    }

    /// <summary>The request parser, as a server reads a connection: pipelined requests, policy, echo JSON, round trip.</summary>
    /// <param name="data">The bytes a client sent.</param>
    public static void Requests(ReadOnlySpan<byte> data)
    {
        string whole = DescribeRequests(data, [], checkCompleted: true);
        Same(whole, DescribeRequests(data, ParseRun.EveryByte(data.Length), checkCompleted: false), "one byte at a time");
        Same(whole, DescribeRequests(data, ParseRun.DataDrivenCuts(data), checkCompleted: false), "at data-driven cuts");
    }

    /// <summary>The chunked decoder: the input is the body of a chunked request.</summary>
    /// <param name="data">The bytes after the head.</param>
    public static void ChunkedBody(ReadOnlySpan<byte> data)
    {
        byte[] message = [.. ChunkedHead, .. data];
        Requests(message);
    }

    /// <summary>The response parser, as a client reads a connection, answering GET and then HEAD, closed after the last byte.</summary>
    /// <param name="data">The bytes a server sent.</param>
    public static void Responses(ReadOnlySpan<byte> data)
    {
        foreach (string method in (string[])["GET", "HEAD"])
        {
            string whole = DescribeResponses(data, method, []);
            Same(whole, DescribeResponses(data, method, ParseRun.EveryByte(data.Length)), $"{method}, one byte at a time");
            Same(whole, DescribeResponses(data, method, ParseRun.DataDrivenCuts(data)), $"{method}, at data-driven cuts");
        }
    }

    private static string DescribeRequests(ReadOnlySpan<byte> data, int[] cuts, bool checkCompleted)
    {
        using var parser = new HttpRequestParser();
        return ParseRun.Describe(parser, data, cuts, endOfInput: true, checkCompleted ? body => CheckAccepted(parser.Head, body) : null);
    }

    private static string DescribeResponses(ReadOnlySpan<byte> data, string method, int[] cuts)
    {
        using var parser = new HttpResponseParser();
        parser.SetRequestMethod(System.Text.Encoding.ASCII.GetBytes(method));
        return ParseRun.Describe(parser, data, cuts, endOfInput: true);
    }

    /// <summary>What the server does with an accepted request, plus the round trip.</summary>
    private static void CheckAccepted(HttpRequestHead head, byte[] body)
    {
        _ = HttpRequestPolicy.OriginServer.Check(head);

        var json = new ArrayBufferWriter<byte>();
        EchoJsonWriter.Write(head, body, json);
        using (JsonDocument echo = JsonDocument.Parse(json.WrittenMemory))
        {
            string? method = echo.RootElement.GetProperty("method").GetString();
            if (method != ParseRun.Latin1(head.Method))
            {
                throw new FuzzFindingException($"echo JSON says method '{method}' for '{ParseRun.Latin1(head.Method)}'");
            }
        }

        RoundTrip(head, body);
    }

    /// <summary>Writes the request again with the library's writer (framed by Content-Length) and parses it back: it must be the same request.</summary>
    private static void RoundTrip(HttpRequestHead head, byte[] body)
    {
        var bytes = new ArrayBufferWriter<byte>();
        var expected = new System.Text.StringBuilder();
        HttpHeadWriter.WriteRequestLine(bytes, head.Method, head.Target, head.Version);
        expected.Append(ParseRun.Latin1(head.Method)).Append(' ').Append(ParseRun.Latin1(head.Target)).Append(' ').Append(head.Version).Append('\n');
        foreach (HttpField field in head.Fields)
        {
            if (field.NameEquals("Content-Length"u8) || field.NameEquals("Transfer-Encoding"u8))
            {
                continue;
            }

            HttpHeadWriter.WriteField(bytes, field.Name, field.Value);
            expected.Append(ParseRun.Latin1(field.Name)).Append(": ").Append(ParseRun.Latin1(field.Value)).Append('\n');
        }

        if (body.Length > 0)
        {
            HttpHeadWriter.WriteContentLength(bytes, body.Length);
        }

        HttpHeadWriter.WriteEndOfHead(bytes);
        bytes.Write(body);

        using var parser = new HttpRequestParser();
        ReadOnlySpan<byte> rest = bytes.WrittenSpan;
        var again = new System.Text.StringBuilder();
        byte[] bodyAgain = [];
        var collected = new ArrayBufferWriter<byte>();
        while (true)
        {
            HttpParseStatus status = parser.Parse(rest, out int consumed, out ReadOnlySpan<byte> part);
            rest = rest[consumed..];
            if (status == HttpParseStatus.HeadComplete)
            {
                HttpRequestHead parsed = parser.Head;
                again.Append(ParseRun.Latin1(parsed.Method)).Append(' ').Append(ParseRun.Latin1(parsed.Target)).Append(' ').Append(parsed.Version).Append('\n');
                foreach (HttpField field in parsed.Fields)
                {
                    if (!field.NameEquals("Content-Length"u8))
                    {
                        again.Append(ParseRun.Latin1(field.Name)).Append(": ").Append(ParseRun.Latin1(field.Value)).Append('\n');
                    }
                }
            }
            else if (status == HttpParseStatus.Body)
            {
                collected.Write(part);
            }
            else if (status == HttpParseStatus.MessageComplete)
            {
                break;
            }
            else
            {
                throw new FuzzFindingException($"the rewritten request did not parse ({status}, {parser.Error.Kind}: {parser.Error.Reason}):\n{ParseRun.Latin1(bytes.WrittenSpan)}");
            }
        }

        Same(expected.ToString(), again.ToString(), "after a round trip");
        if (!collected.WrittenSpan.SequenceEqual(body))
        {
            throw new FuzzFindingException("the body changed in a round trip");
        }
    }

    private static void Same(string expected, string actual, string how)
    {
        if (expected != actual)
        {
            throw new FuzzFindingException($"different result {how}:\n--- whole\n{expected}\n--- {how}\n{actual}");
        }
    }
}
