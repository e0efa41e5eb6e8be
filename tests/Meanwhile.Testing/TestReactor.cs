namespace Meanwhile.Testing;

/// <summary>Which reactor the suite runs on: CI runs every suite on epoll, then again with MEANWHILE_REACTOR=portable.</summary>
public static class TestReactor
{
    /// <summary>Whether the suite runs on the portable reactor (which watches sockets only, not raw descriptors).</summary>
    public static bool IsPortable { get; } =
        !OperatingSystem.IsLinux() || string.Equals(Environment.GetEnvironmentVariable("MEANWHILE_REACTOR"), "portable", StringComparison.OrdinalIgnoreCase);
}
