namespace Meanwhile;

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

    /// <summary>Maps a .NET socket error (portable backend) to the same typed exceptions.</summary>
    public static SystemCallException From(string call, System.Net.Sockets.SocketException e, string? subject) =>
        From(call, ToErrno(e.SocketErrorCode, e.NativeErrorCode), subject);

    /// <summary>Maps a .NET socket error code, as the non-throwing socket calls report it, to the same typed exceptions.</summary>
    public static SystemCallException From(string call, System.Net.Sockets.SocketError error, string? subject) =>
        From(call, ToErrno(error, (int)error), subject);

    private static int ToErrno(System.Net.Sockets.SocketError error, int native) => error switch
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
        _ => native,
    };
}
