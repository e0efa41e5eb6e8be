namespace Meanwhile;

/// <summary>Which reactor a loop waits on for I/O.</summary>
public enum ReactorKind
{
    /// <summary>epoll on Linux, the portable reactor elsewhere; the <c>MEANWHILE_REACTOR</c> environment variable (<c>epoll</c> or <c>portable</c>) overrides it.</summary>
    Default,
    /// <summary>The loop's own epoll reactor (Linux only).</summary>
    Epoll,
    /// <summary>The portable reactor, built on .NET's own async socket APIs; runs everywhere .NET does.</summary>
    Portable,
}
