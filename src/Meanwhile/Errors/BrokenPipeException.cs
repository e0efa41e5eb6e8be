namespace Meanwhile;

/// <summary>Writing to a stream whose reading side is gone (EPIPE).</summary>
public sealed class BrokenPipeException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);
