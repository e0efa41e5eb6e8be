namespace Meanwhile;

/// <summary>The connection or operation timed out (ETIMEDOUT, or a connect timeout given by the caller).</summary>
public sealed class ConnectionTimedOutException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);
