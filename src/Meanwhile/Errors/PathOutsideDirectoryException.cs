namespace Meanwhile;

/// <summary>
/// Resolving a path would have left the directory it must stay beneath (through <c>..</c>, an absolute path or a
/// symbolic link); raised by <see cref="DataStream.OpenFileBeneathAsync"/>.
/// </summary>
public sealed class PathOutsideDirectoryException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);
