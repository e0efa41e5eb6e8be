namespace Meanwhile;

/// <summary>The address is already in use (EADDRINUSE).</summary>
public sealed class AddressInUseException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);
