namespace Meanwhile;

/// <summary>The operation is not permitted (EACCES, EPERM).</summary>
public sealed class PermissionDeniedException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);
