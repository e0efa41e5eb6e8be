namespace Meanwhile;

/// <summary>A host name could not be resolved to an address.</summary>
public sealed class NameResolutionException : IOException
{
    /// <summary>Creates the exception for <paramref name="host"/>.</summary>
    /// <param name="host">The name that did not resolve.</param>
    /// <param name="inner">What the resolver said.</param>
    public NameResolutionException(string host, Exception? inner)
        : base($"Name resolution failed for '{host}'{(inner is null ? "" : $": {inner.Message}")}", inner) => Host = host;

    /// <summary>The name that did not resolve.</summary>
    public string Host { get; }
}
