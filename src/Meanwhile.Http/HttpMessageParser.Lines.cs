namespace Meanwhile.Http;

/// <content>The head and trailer sections: lines copied into the head store, then judged one whole line at a time.</content>
public abstract partial class HttpMessageParser
{
    // Returned by internal steps that changed state and want the main loop to go on.
    private const HttpParseStatus Continue = (HttpParseStatus)255;

    private bool _crPending;
    private int _lineStart;
    private int _sectionBytes;
    private int _skippedBytes;

    private HttpParseStatus ParseLines(ReadOnlySpan<byte> input, ref int pos)
    {
        while (true)
        {
            ReadOnlySpan<byte> rest = input[pos..];
            if (rest.IsEmpty)
            {
                return HttpParseStatus.NeedMoreData;
            }

            int lineLength = _store.Length - _lineStart;

            if (_state == State.Fields && lineLength == 0 && !_crPending)
            {
                // The common case: whole, ordinary field lines at hand, checked in two searches each and stored at once.
                HttpParseStatus taken = TakeWholeFieldLines(rest, ref pos);
                if (taken != Continue) return taken;
                rest = input[pos..];
                if (rest.IsEmpty) return HttpParseStatus.NeedMoreData;
            }

            // A field line starting with SP/HTAB is obs-fold (or, first of all, whitespace before the first field):
            // refused at once (RFC 9112 5.2, 2.2) rather than when its line ends, so nothing after it is read.
            if (_state != State.StartLine && lineLength == 0 && !_crPending && HttpChars.IsWhitespace(rest[0]))
            {
                return Fail(
                    HttpParseErrorKind.InvalidField,
                    _state == State.Fields && _store.HeaderCount == 0 ? "whitespace before the first header field" : "obs-fold (line folding) in a field line");
            }

            LineScanner.Outcome outcome = LineScanner.Scan(rest, ref _crPending, out int count);
            bool bare = outcome is LineScanner.Outcome.BareCR or LineScanner.Outcome.BareLF;

            // The limits are judged before a bad line ending, on the bytes that came before it (a CR counted as a
            // pending CR would be): read in smaller pieces, those bytes would have hit the limit before the bad byte
            // arrived, and the answer must not depend on how the bytes were split.
            int newLength = lineLength + count;
            if (_state == State.StartLine)
            {
                int content = outcome == LineScanner.Outcome.LineEnd ? newLength - 2 : (_crPending ? newLength - 1 : newLength);
                if (content > Limits.MaxStartLineBytes)
                {
                    return Fail(HttpParseErrorKind.StartLineTooLong, IsRequest ? "request line too long" : "status line too long");
                }
            }
            else
            {
                _sectionBytes += outcome == LineScanner.Outcome.BareCR && !_crPending ? count + 1 : count;
                if (_sectionBytes > Limits.MaxHeaderSectionBytes)
                {
                    return Fail(HttpParseErrorKind.HeaderSectionTooLarge, _state == State.Fields ? "header section too large" : "trailer section too large");
                }
            }

            if (bare)
            {
                return Fail(
                    _state == State.StartLine ? StartLineErrorKind : HttpParseErrorKind.InvalidField,
                    outcome == LineScanner.Outcome.BareCR ? "bare CR (CR not followed by LF)" : "bare LF (line not ended by CRLF)");
            }

            if (_store.Length == 0)
            {
                _store.Reserve(rest.Length);
            }

            _store.Append(rest[..count]);
            pos += count;
            if (outcome == LineScanner.Outcome.Partial)
            {
                return HttpParseStatus.NeedMoreData;
            }

            int offset = _lineStart;
            ReadOnlySpan<byte> line = _store.Slice(offset, newLength - 2);
            _lineStart = _store.Length;
            HttpParseStatus status = _state switch
            {
                State.StartLine => OnStartLine(line, offset),
                State.Fields => line.IsEmpty ? OnHeadEnd() : OnFieldLine(line, offset, trailer: false),
                _ => line.IsEmpty ? OnTrailersEnd() : OnFieldLine(line, offset, trailer: true),
            };

            if (status != Continue)
            {
                return status;
            }
        }
    }

    private HttpParseStatus OnStartLine(ReadOnlySpan<byte> line, int offset)
    {
        if (line.IsEmpty)
        {
            // RFC 9112 2.2: ignore empty lines before a start line (a client's stray CRLF after a body);
            // bounded so a stream of CRLFs cannot keep a connection busy for ever.
            _skippedBytes += 2;
            if (_skippedBytes > Limits.MaxStartLineBytes)
            {
                return Fail(StartLineErrorKind, "too many empty lines before the start line");
            }

            _store.Truncate(0);
            _lineStart = 0;
            return Continue;
        }

        HttpParseError lineError = ParseStartLine(line, offset);
        if (lineError.IsError)
        {
            return Fail(lineError);
        }

        _state = State.Fields;
        _sectionBytes = 0;
        return Continue;
    }

    /// <summary>
    /// Takes the field lines at the start of <paramref name="rest"/> that are whole and plainly valid (a token, a colon,
    /// field-value bytes, CRLF), found by one search for the end of the name and one for the end of the value, and
    /// stores them with one copy; the empty line after them ends the head. Stops at the first other line (a partial
    /// line, anything odd), which the line-by-line path then judges, with its exact error: nothing taken here would
    /// have been judged otherwise. Returns <see cref="Continue"/>, the head's end, or the status of a field that failed
    /// its semantics or the limits.
    /// </summary>
    private HttpParseStatus TakeWholeFieldLines(ReadOnlySpan<byte> rest, ref int pos)
    {
        int used = 0;
        int storeStart = _store.Length;
        HttpParseStatus status = Continue;
        bool headEnded = false;
        while (true)
        {
            ReadOnlySpan<byte> line = rest[used..];
            if (line.Length >= 2 && line[0] == HttpChars.CR && line[1] == HttpChars.LF)
            {
                // The empty line: the head ends here, as the line-by-line path would end it (limit included).
                _sectionBytes += 2;
                if (_sectionBytes > Limits.MaxHeaderSectionBytes)
                {
                    status = Fail(HttpParseErrorKind.HeaderSectionTooLarge, "header section too large");
                    break;
                }

                used += 2;
                headEnded = true;
                break;
            }

            int colon = line.IndexOfAnyExcept(HttpChars.Token);
            if (colon <= 0 || line[colon] != HttpChars.Colon) break;
            int end = HttpChars.IndexOfNonFieldValue(line[(colon + 1)..]);
            if (end < 0) break;
            end += colon + 1;
            if (line[end] != HttpChars.CR || end + 1 >= line.Length || line[end + 1] != HttpChars.LF) break;
            int count = end + 2;
            _sectionBytes += count;
            if (_sectionBytes > Limits.MaxHeaderSectionBytes)
            {
                status = Fail(HttpParseErrorKind.HeaderSectionTooLarge, "header section too large");
                break;
            }

            status = AddFieldLine(line[..end], storeStart + used, colon, trailer: false);
            used += count;
            if (status != Continue) break;
        }

        if (used > 0)
        {
            _store.Append(rest[..used]);
            pos += used;
            _lineStart = _store.Length;
        }

        return headEnded ? OnHeadEnd() : status;
    }

    private HttpParseStatus OnFieldLine(ReadOnlySpan<byte> line, int offset, bool trailer)
    {
        int colon = line.IndexOf(HttpChars.Colon);
        if (colon < 0)
        {
            return Fail(HttpParseErrorKind.InvalidField, "field line without a colon");
        }

        ReadOnlySpan<byte> name = line[..colon];
        if (name.IsEmpty)
        {
            return Fail(HttpParseErrorKind.InvalidField, "empty field name");
        }

        if (HttpChars.IsWhitespace(name[^1]))
        {
            // RFC 9112 5.1: MUST be answered with 400, since proxies disagree on what such a name means.
            return Fail(HttpParseErrorKind.InvalidField, "whitespace before colon in header field");
        }

        if (name.ContainsAnyExcept(HttpChars.Token))
        {
            return Fail(HttpParseErrorKind.InvalidField, "invalid character in field name");
        }

        if (line[(colon + 1)..].ContainsAnyExcept(HttpChars.FieldValue))
        {
            return Fail(HttpParseErrorKind.InvalidField, "control character in field value");
        }

        return AddFieldLine(line, offset, colon, trailer);
    }

    /// <summary>Records a checked field line (its name a token before <paramref name="colon"/>, its value field-value bytes), its value trimmed.</summary>
    private HttpParseStatus AddFieldLine(ReadOnlySpan<byte> line, int offset, int colon, bool trailer)
    {
        ReadOnlySpan<byte> name = line[..colon];
        // Values are short and rarely have more than one space around them: a plain loop beats a vectorized search.
        int valueStart = colon + 1;
        int valueEnd = line.Length;
        while (valueStart < valueEnd && HttpChars.IsWhitespace(line[valueStart])) valueStart++;
        while (valueEnd > valueStart && HttpChars.IsWhitespace(line[valueEnd - 1])) valueEnd--;
        int valueLength = valueEnd - valueStart;
        valueStart -= colon + 1;
        ReadOnlySpan<byte> value = line.Slice(colon + 1 + valueStart, valueLength);

        if ((trailer ? _store.TrailerCount : _store.HeaderCount) >= Limits.MaxFieldCount)
        {
            return Fail(HttpParseErrorKind.TooManyFields, trailer ? "too many trailer fields" : "too many header fields");
        }

        var entry = new FieldEntry(new Segment(offset, colon), new Segment(offset + colon + 1 + valueStart, valueLength));
        if (trailer)
        {
            // Trailer fields never change framing or routing (RFC 9110 6.5.1), so they are stored but not interpreted.
            _store.AddTrailer(entry);
            return Continue;
        }

        HttpParseError fieldError = FieldSemantics.Observe(ref _head.Facts, name, value, IsRequest);
        if (fieldError.IsError)
        {
            return Fail(fieldError);
        }

        _store.AddHeader(entry);
        return Continue;
    }

    private HttpParseStatus OnHeadEnd()
    {
        _head.HeadLength = _store.Length;
        HttpParseError headError = CompleteHead();
        if (headError.IsError)
        {
            return Fail(headError);
        }

        switch (_head.Framing)
        {
            case HttpBodyFraming.ContentLength:
                _bodyRemaining = _head.ContentLength;
                _state = State.FixedBody;
                break;
            case HttpBodyFraming.Chunked:
                _state = State.ChunkSizeLine;
                break;
            case HttpBodyFraming.UntilClose:
                _state = State.UntilClose;
                break;
            default:
                _state = State.NoBody;
                break;
        }

        return HttpParseStatus.HeadComplete;
    }

    private HttpParseStatus OnTrailersEnd()
    {
        _state = State.MessageDone;
        return HttpParseStatus.MessageComplete;
    }
}
