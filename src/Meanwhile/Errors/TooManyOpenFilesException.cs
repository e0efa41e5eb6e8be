namespace Meanwhile;

/// <summary>The process (or system) has no file descriptors left (EMFILE, ENFILE).</summary>
public sealed class TooManyOpenFilesException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);
