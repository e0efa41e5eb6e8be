namespace Meanwhile;

/// <summary>The file system has no room left (ENOSPC) or the user's quota is used up (EDQUOT); what was written before stays written.</summary>
public sealed class DiskFullException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);
