namespace Meanwhile.Http;

/// <summary>Why a message was refused: a kind, the HTTP status a server should answer, and a short human reason.</summary>
/// <remarks>A value type with a literal reason so reporting an error on the hot path allocates nothing.</remarks>
public readonly struct HttpParseError : IEquatable<HttpParseError>
{
    /// <summary>Creates an error of the given kind with a short reason naming what was wrong.</summary>
    /// <param name="kind">What was wrong.</param>
    /// <param name="reason">A short human description, e.g. "whitespace before colon in header field".</param>
    public HttpParseError(HttpParseErrorKind kind, string reason)
    {
        Kind = kind;
        _reasonText = reason;
    }

    // default(HttpParseError) has no reason; the property turns that into an empty string.
    private readonly string? _reasonText;

    /// <summary>What was wrong; <see cref="HttpParseErrorKind.None"/> when there is no error.</summary>
    public HttpParseErrorKind Kind { get; }

    /// <summary>A short human description of the problem.</summary>
    public string Reason => _reasonText ?? string.Empty;

    /// <summary>True when this value describes an actual error.</summary>
    public bool IsError => Kind != HttpParseErrorKind.None;

    /// <summary>The status code a server answers with before closing the connection (0 when there is no error).</summary>
    public int StatusCode => StatusCodeOf(Kind);

    /// <summary>The status code a server answers for an error of <paramref name="kind"/>.</summary>
    /// <param name="kind">The kind of error.</param>
    /// <returns>400, 413, 414, 431, 501 or 505; 0 for <see cref="HttpParseErrorKind.None"/>.</returns>
    public static int StatusCodeOf(HttpParseErrorKind kind) => kind switch
    {
        HttpParseErrorKind.None => 0,
        HttpParseErrorKind.UnsupportedVersion => 505,
        HttpParseErrorKind.StartLineTooLong => 414,
        HttpParseErrorKind.HeaderSectionTooLarge or HttpParseErrorKind.TooManyFields => 431,
        HttpParseErrorKind.UnsupportedTransferCoding or HttpParseErrorKind.MethodNotSupported => 501,
        HttpParseErrorKind.BodyTooLarge => 413,
        _ => 400,
    };

    /// <summary>Throws <see cref="HttpParseException"/> when this is an error: the bridge from hot-path result values to an exception at an API edge.</summary>
    /// <exception cref="HttpParseException">When <see cref="IsError"/> is true.</exception>
    public void ThrowIfError()
    {
        if (IsError)
        {
            throw new HttpParseException(this);
        }
    }

    /// <inheritdoc/>
    public bool Equals(HttpParseError other) => Kind == other.Kind && Reason == other.Reason;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is HttpParseError other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, Reason);

    /// <summary>Compares two errors by kind and reason.</summary>
    /// <param name="left">The first error.</param>
    /// <param name="right">The second error.</param>
    /// <returns>True when both have the same kind and reason.</returns>
    public static bool operator ==(HttpParseError left, HttpParseError right) => left.Equals(right);

    /// <summary>Compares two errors by kind and reason.</summary>
    /// <param name="left">The first error.</param>
    /// <param name="right">The second error.</param>
    /// <returns>True when they differ in kind or reason.</returns>
    public static bool operator !=(HttpParseError left, HttpParseError right) => !left.Equals(right);

    /// <summary>The status, kind and reason, for logs.</summary>
    /// <returns>For example <c>400 InvalidField: whitespace before colon in header field</c>.</returns>
    public override string ToString() => IsError ? $"{StatusCode} {Kind}: {Reason}" : "no error";
}
