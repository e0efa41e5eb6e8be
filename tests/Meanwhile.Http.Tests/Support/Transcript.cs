namespace Meanwhile.Http.Tests;

/// <summary>How feeding a connection's bytes to a parser ended.</summary>
internal enum Ending
{
    /// <summary>All input used; the parser waits for more (possibly mid-message).</summary>
    NeedMoreData,

    /// <summary>A message said the connection closes after it; the rest was not parsed.</summary>
    Closed,

    /// <summary>The parser (or the request policy) refused the input.</summary>
    Error,
}

/// <summary>Everything a connection's bytes produced: the messages, how it ended, and the error if any.</summary>
internal sealed record Transcript(IReadOnlyList<ParsedMessage> Messages, Ending Ending, HttpParseError Error, bool MidMessage)
{
    internal ParsedMessage Single => Assert.Single(Messages);

    public override string ToString() =>
        string.Join("\n", Messages.Select(m => m.ToString())) + $"\n=> {Ending} {(Ending == Ending.Error ? Error.ToString() : string.Empty)} midMessage={MidMessage}";
}
