using System.Net;

namespace Meanwhile;

/// <summary>One datagram received by <see cref="DatagramSocket.ReceiveFromAsync"/>.</summary>
/// <param name="Length">Bytes put in the buffer (0 is a valid, empty datagram, not an end of stream).</param>
/// <param name="From">Who sent it (an IPv4 sender appears v4-mapped on an IPv6 socket).</param>
/// <param name="Truncated">The datagram was longer than the buffer; the kernel discarded the rest.</param>
public readonly record struct ReceivedDatagram(int Length, IPEndPoint From, bool Truncated);
