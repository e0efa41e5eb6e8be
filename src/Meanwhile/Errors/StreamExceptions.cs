
namespace Meanwhile;

/// <summary>The peer refused the connection (ECONNREFUSED): nothing listens there.</summary>
public sealed class ConnectionRefusedException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);

/// <summary>The peer reset the connection (ECONNRESET, ECONNABORTED): it closed abruptly or crashed.</summary>
public sealed class ConnectionResetException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);

/// <summary>Writing to a stream whose reading side is gone (EPIPE).</summary>
public sealed class BrokenPipeException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);

/// <summary>The address is already in use (EADDRINUSE).</summary>
public sealed class AddressInUseException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);

/// <summary>The connection or operation timed out (ETIMEDOUT, or a connect timeout given by the caller).</summary>
public sealed class ConnectionTimedOutException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);

/// <summary>A path or host does not exist (ENOENT, or a name that does not resolve).</summary>
public sealed class PathNotFoundException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);

/// <summary>The operation is not permitted (EACCES, EPERM).</summary>
public sealed class PermissionDeniedException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);

/// <summary>The host or network cannot be reached (EHOSTUNREACH, ENETUNREACH, ENETDOWN).</summary>
public sealed class HostUnreachableException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);

/// <summary>The process (or system) has no file descriptors left (EMFILE, ENFILE).</summary>
public sealed class TooManyOpenFilesException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);

/// <summary>The file system has no room left (ENOSPC) or the user's quota is used up (EDQUOT); what was written before stays written.</summary>
public sealed class DiskFullException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);

/// <summary>A host name could not be resolved to an address.</summary>
public sealed class NameResolutionException : IOException
{
    /// <summary>Creates the exception for <paramref name="host"/>.</summary>
    /// <param name="host">The name that did not resolve.</param>
    /// <param name="inner">What the resolver said.</param>
    public NameResolutionException(string host, Exception? inner)
        : base($"Name resolution failed for '{host}'{(inner is null ? "" : $": {inner.Message}")}", inner) => Host = host;

    /// <summary>The name that did not resolve.</summary>
    public string Host { get; }
}

/// <summary>
/// Resolving a path would have left the directory it must stay beneath (through <c>..</c>, an absolute path or a
/// symbolic link); raised by <see cref="DataStream.OpenFileBeneathAsync"/>.
/// </summary>
public sealed class PathOutsideDirectoryException(string call, int errno, string? subject) : SystemCallException(call, errno, subject);

internal static class SystemErrors
{
    /// <summary>The one place where an errno becomes a typed exception.</summary>
    public static SystemCallException From(string call, int errno, string? subject) => errno switch
    {
        Errno.ECONNREFUSED => new ConnectionRefusedException(call, errno, subject),
        Errno.ECONNRESET or Errno.ECONNABORTED => new ConnectionResetException(call, errno, subject),
        Errno.EPIPE => new BrokenPipeException(call, errno, subject),
        Errno.EADDRINUSE => new AddressInUseException(call, errno, subject),
        Errno.ETIMEDOUT => new ConnectionTimedOutException(call, errno, subject),
        Errno.ENOENT => new PathNotFoundException(call, errno, subject),
        Errno.EACCES or Errno.EPERM => new PermissionDeniedException(call, errno, subject),
        Errno.EHOSTUNREACH or Errno.ENETUNREACH or Errno.ENETDOWN => new HostUnreachableException(call, errno, subject),
        Errno.EMFILE or Errno.ENFILE => new TooManyOpenFilesException(call, errno, subject),
        Errno.ENOSPC or Errno.EDQUOT => new DiskFullException(call, errno, subject),
        _ => new SystemCallException(call, errno, subject),
    };

    /// <summary>Maps a .NET socket error (portable reactor) to the same typed exceptions.</summary>
    public static SystemCallException From(string call, System.Net.Sockets.SocketException e, string? subject) =>
        From(call, e.SocketErrorCode switch
        {
            System.Net.Sockets.SocketError.ConnectionRefused => Errno.ECONNREFUSED,
            System.Net.Sockets.SocketError.ConnectionReset => Errno.ECONNRESET,
            System.Net.Sockets.SocketError.ConnectionAborted => Errno.ECONNABORTED,
            System.Net.Sockets.SocketError.Shutdown => Errno.EPIPE,
            System.Net.Sockets.SocketError.AddressAlreadyInUse => Errno.EADDRINUSE,
            System.Net.Sockets.SocketError.TimedOut => Errno.ETIMEDOUT,
            System.Net.Sockets.SocketError.AccessDenied => Errno.EACCES,
            System.Net.Sockets.SocketError.HostUnreachable => Errno.EHOSTUNREACH,
            System.Net.Sockets.SocketError.NetworkUnreachable => Errno.ENETUNREACH,
            System.Net.Sockets.SocketError.NetworkDown => Errno.ENETDOWN,
            System.Net.Sockets.SocketError.TooManyOpenSockets => Errno.EMFILE,
            System.Net.Sockets.SocketError.AddressNotAvailable => Errno.EADDRNOTAVAIL,
            System.Net.Sockets.SocketError.NotConnected => Errno.ENOTCONN,
            System.Net.Sockets.SocketError.InvalidArgument => Errno.EINVAL,
            System.Net.Sockets.SocketError.MessageSize => Errno.EMSGSIZE,
            _ => e.NativeErrorCode,
        }, subject);
}
