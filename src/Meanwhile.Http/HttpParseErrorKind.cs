namespace Meanwhile.Http;

/// <summary>What was wrong with a message; each kind maps to the status a server answers (see <see cref="HttpParseError.StatusCode"/>).</summary>
public enum HttpParseErrorKind : byte
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>The request line is malformed (method, spacing, HTTP-version syntax): 400.</summary>
    InvalidRequestLine,

    /// <summary>The request-target has a forbidden byte or does not fit its form: 400.</summary>
    InvalidRequestTarget,

    /// <summary>The status line of a response is malformed: 400 (a client reports it as a malformed response).</summary>
    InvalidStatusLine,

    /// <summary>A well-formed <c>HTTP/x.y</c> version this parser does not speak: 505.</summary>
    UnsupportedVersion,

    /// <summary>The start line is longer than <see cref="HttpParserLimits.MaxStartLineBytes"/>: 414.</summary>
    StartLineTooLong,

    /// <summary>A header or trailer field line is malformed (name, colon, value bytes, obs-fold, bare CR or LF): 400.</summary>
    InvalidField,

    /// <summary>The header or trailer section exceeds <see cref="HttpParserLimits.MaxHeaderSectionBytes"/>: 431.</summary>
    HeaderSectionTooLarge,

    /// <summary>More field lines than <see cref="HttpParserLimits.MaxFieldCount"/>: 431.</summary>
    TooManyFields,

    /// <summary>Host is missing from an HTTP/1.1 request, repeated, or not a valid host: 400.</summary>
    InvalidHost,

    /// <summary>Content-Length is not one run of digits, overflows, or has differing values: 400.</summary>
    InvalidContentLength,

    /// <summary>Transfer-Encoding is malformed, chunked is not last or appears twice, or is sent in HTTP/1.0: 400.</summary>
    InvalidTransferEncoding,

    /// <summary>Both Transfer-Encoding and Content-Length are present (a request smuggling vector): 400.</summary>
    ConflictingFraming,

    /// <summary>A transfer coding other than chunked that this parser cannot decode: 501.</summary>
    UnsupportedTransferCoding,

    /// <summary>The chunked body is malformed (size line, extensions, missing CRLF, size overflow): 400.</summary>
    InvalidChunkedBody,

    /// <summary>The body exceeds <see cref="HttpParserLimits.MaxBodyBytes"/>: 413.</summary>
    BodyTooLarge,

    /// <summary>The input ended inside a message: 400 (a server usually just closes).</summary>
    IncompleteMessage,

    /// <summary>A syntactically valid request this server refuses by policy (e.g. CONNECT on an origin server): 501.</summary>
    MethodNotSupported,
}
