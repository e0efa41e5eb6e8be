namespace Meanwhile;

/// <summary>A path or host does not exist (ENOENT, or a name that does not resolve).</summary>
public sealed class PathNotFoundException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);
