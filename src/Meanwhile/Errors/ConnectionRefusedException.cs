namespace Meanwhile;

/// <summary>The peer refused the connection (ECONNREFUSED): nothing listens there.</summary>
public sealed class ConnectionRefusedException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);
