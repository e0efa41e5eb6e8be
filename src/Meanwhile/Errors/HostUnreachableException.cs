namespace Meanwhile;

/// <summary>The host or network cannot be reached (EHOSTUNREACH, ENETUNREACH, ENETDOWN).</summary>
public sealed class HostUnreachableException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);
