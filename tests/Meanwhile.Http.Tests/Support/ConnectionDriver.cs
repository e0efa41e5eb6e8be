namespace Meanwhile.Http.Tests;

/// <summary>
/// Feeds a connection's bytes to a parser the way a server or client loop would: piece by piece, keeping
/// unconsumed bytes for the next call, collecting each complete message, stopping at an error or when a
/// message closes the connection.
/// </summary>
internal static class ConnectionDriver
{
    /// <summary>Parses <paramref name="pieces"/> (the reads of one connection) with a fresh request parser.</summary>
    internal static Transcript Requests(IEnumerable<byte[]> pieces, HttpParserLimits? limits = null, HttpRequestPolicy? policy = null)
    {
        using var parser = new HttpRequestParser(limits);
        return Drive(parser, pieces, policy is null ? null : () => policy.Check(parser.Head));
    }

    /// <summary>Parses <paramref name="pieces"/> with a fresh response parser, optionally naming the request method and signalling the end of input.</summary>
    internal static Transcript Responses(IEnumerable<byte[]> pieces, string requestMethod = "GET", bool endOfInput = false, HttpParserLimits? limits = null)
    {
        using var parser = new HttpResponseParser(limits);
        parser.SetRequestMethod(Latin1.Bytes(requestMethod));
        return Drive(parser, pieces, null, endOfInput);
    }

    internal static Transcript Drive(HttpMessageParser parser, IEnumerable<byte[]> pieces, Func<HttpParseError>? policy, bool endOfInput = false)
    {
        var messages = new List<ParsedMessage>();
        var body = new List<byte>();
        HttpMessageHead head = parser switch
        {
            HttpRequestParser requests => requests.Head,
            HttpResponseParser responses => responses.Head,
            _ => throw new ArgumentException("unknown parser", nameof(parser)),
        };

        foreach (byte[] piece in pieces)
        {
            ReadOnlySpan<byte> data = piece;
            while (true)
            {
                HttpParseStatus status = parser.Parse(data, out int consumed, out ReadOnlySpan<byte> bodyPart);
                Assert.InRange(consumed, 0, data.Length);
                data = data[consumed..];
                switch (status)
                {
                    case HttpParseStatus.NeedMoreData:
                        Assert.True(data.IsEmpty, "NeedMoreData must consume all the input");
                        break;
                    case HttpParseStatus.HeadComplete:
                        body.Clear();
                        HttpParseError refused = policy?.Invoke() ?? default;
                        if (refused.IsError)
                        {
                            return new Transcript(messages, Ending.Error, refused, MidMessage: true);
                        }

                        continue;
                    case HttpParseStatus.Body:
                        Assert.False(bodyPart.IsEmpty, "a Body event carries bytes");
                        body.AddRange(bodyPart);
                        continue;
                    case HttpParseStatus.MessageComplete:
                        messages.Add(ParsedMessage.From(head, [.. body]));
                        if (!head.KeepAlive && head is HttpRequestHead)
                        {
                            return new Transcript(messages, Ending.Closed, default, MidMessage: false);
                        }

                        continue;
                    case HttpParseStatus.Error:
                        Assert.True(parser.Error.IsError);
                        return new Transcript(messages, Ending.Error, parser.Error, MidMessage: true);
                    default:
                        throw new InvalidOperationException($"unexpected status {status}");
                }

                break;
            }
        }

        if (endOfInput)
        {
            HttpParseStatus last = parser.EndOfInput();
            if (last == HttpParseStatus.MessageComplete)
            {
                messages.Add(ParsedMessage.From(head, [.. body]));
                return new Transcript(messages, Ending.Closed, default, MidMessage: false);
            }

            if (last == HttpParseStatus.Error)
            {
                return new Transcript(messages, Ending.Error, parser.Error, MidMessage: true);
            }

            return new Transcript(messages, Ending.Closed, default, MidMessage: false);
        }

        return new Transcript(messages, Ending.NeedMoreData, default, MidMessage: !parser.IsIdle);
    }
}
