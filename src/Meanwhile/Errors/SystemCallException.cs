using System.Runtime.InteropServices;

namespace Meanwhile;

/// <summary>
/// A system call failed. Carries the errno, its symbolic name and what the call concerned (a descriptor,
/// a path, an endpoint), so the message says what happened and to what.
/// </summary>
public class SystemCallException : IOException
{
    /// <summary>Creates the exception for <paramref name="errno"/> returned by <paramref name="call"/>.</summary>
    /// <param name="call">The system call ("epoll_ctl", "connect").</param>
    /// <param name="errno">The error number.</param>
    /// <param name="subject">What the call concerned, if anything.</param>
    public SystemCallException(string call, int errno, string? subject = null)
        : base(FormatMessage(call, errno, subject), errno)
    {
        Call = call;
        ErrorNumber = errno;
        ErrorName = Errno.Name(errno);
        Subject = subject;
    }

    /// <summary>The system call that failed.</summary>
    public string Call { get; }

    /// <summary>The errno value.</summary>
    public int ErrorNumber { get; }

    /// <summary>The errno's symbolic name ("ECONNREFUSED").</summary>
    public string ErrorName { get; }

    /// <summary>What the call concerned (a descriptor, a path, an endpoint), if known.</summary>
    public string? Subject { get; }

    private static string FormatMessage(string call, int errno, string? subject) =>
        $"{call} failed{(subject is null ? "" : $" for {subject}")}: {Errno.Name(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})";
}
