namespace Meanwhile;

/// <summary>The peer reset the connection (ECONNRESET, ECONNABORTED): it closed abruptly or crashed.</summary>
public sealed class ConnectionResetException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);
