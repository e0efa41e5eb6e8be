namespace Meanwhile.Testing;

/// <summary>
/// A fact that needs the epoll reactor: skipped when the suite runs on the portable one (which does not watch raw
/// descriptors, and whose socket engine allocates, so allocation bounds hold only on epoll).
/// </summary>
public sealed class EpollFactAttribute : FactAttribute
{
    /// <summary>Skips the fact off Linux and when MEANWHILE_REACTOR is portable.</summary>
    public EpollFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "needs Linux (epoll)";
        else if (TestReactor.IsPortable) Skip = "the suite runs on the portable reactor; this fact is about the epoll one";
    }
}
