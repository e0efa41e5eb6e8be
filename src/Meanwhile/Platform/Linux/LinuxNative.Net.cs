namespace Meanwhile;

/// <summary>Constants for datagram sockets and TCP option checks (the calls themselves are in LinuxNative.cs).</summary>
internal static partial class LinuxNative
{
    /// <summary>recvfrom on a datagram socket returns the datagram's real length, even if longer than the buffer.</summary>
    public const int MSG_TRUNC = 0x20;
}
