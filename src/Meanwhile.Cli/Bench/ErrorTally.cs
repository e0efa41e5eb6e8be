using Meanwhile.Http.Client;

namespace Meanwhile.Cli;

/// <summary>
/// A load run's failed requests by kind (refused, reset, timeout, TLS, bad response, other), each with the first
/// message of its kind, so a run that only failed says why (wrk splits its errors the same way: connect, read, write,
/// timeout).
/// </summary>
internal sealed class ErrorTally
{
    /// <summary>The kinds, in the order they are reported.</summary>
    public static readonly string[] Kinds = ["refused", "reset", "timeout", "TLS", "bad response", "other"];

    private readonly long[] _counts = new long[Kinds.Length];
    private readonly string?[] _first = new string?[Kinds.Length];

    /// <summary>Failed requests in all.</summary>
    public long Total { get; private set; }

    /// <summary>Counts <paramref name="error"/> under its kind; keeps its message if it is the first of that kind.</summary>
    public void Add(LoopHttpException error)
    {
        int kind = Array.IndexOf(Kinds, KindOf(error.Kind));
        _counts[kind]++;
        _first[kind] ??= error.Message;
        Total++;
    }

    /// <summary>The kinds that occurred: name, count, first message.</summary>
    public IEnumerable<(string Kind, long Count, string FirstMessage)> Occurred()
    {
        for (int i = 0; i < Kinds.Length; i++)
            if (_counts[i] > 0) yield return (Kinds[i], _counts[i], _first[i]!);
    }

    /// <summary>The reported kind of a client failure.</summary>
    internal static string KindOf(LoopHttpErrorKind kind) => kind switch
    {
        LoopHttpErrorKind.ConnectionRefused => "refused",
        // A response cut short is the peer closing mid-exchange: a reset as far as a load test is concerned.
        LoopHttpErrorKind.ConnectionReset or LoopHttpErrorKind.IncompleteResponse => "reset",
        LoopHttpErrorKind.ConnectTimeout or LoopHttpErrorKind.ResponseHeadersTimeout or LoopHttpErrorKind.RequestTimeout => "timeout",
        LoopHttpErrorKind.Tls => "TLS",
        LoopHttpErrorKind.MalformedResponse => "bad response",
        _ => "other",
    };
}
