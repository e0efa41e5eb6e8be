using System.Buffers.Binary;

namespace Meanwhile.Http.WebSockets;

/// <summary>The opcodes of RFC 6455 5.2; the others are reserved (a frame with one is a protocol error).</summary>
internal enum Opcode : byte
{
    Continuation = 0,
    Text = 1,
    Binary = 2,
    Close = 8,
    Ping = 9,
    Pong = 10,
}

/// <summary>
/// One frame's header (RFC 6455 5.2): parsed from the first 2 to 14 bytes of a frame, checked against the rules that
/// need no connection state (reserved opcodes, control frames over 125 bytes or fragmented, a length with its top bit
/// set, non-minimal lengths are allowed as the RFC's receivers must), and written for frames this side sends.
/// </summary>
internal struct FrameHeader
{
    public const int MaxLength = 14;
    public const int MaxControlPayload = 125;

    public bool Fin;
    public bool Compressed; // RSV1, with permessage-deflate
    public Opcode Opcode;
    public bool Masked;
    public int MaskKey;
    public long PayloadLength;
    public int Length; // header bytes

    public readonly bool IsControl => ((byte)Opcode & 0x8) != 0;

    /// <summary>
    /// Parses a header from the start of <paramref name="input"/>: returns 0 when more bytes are needed, the header's
    /// length when it is complete, -1 with <paramref name="error"/> set when it breaks the protocol.
    /// </summary>
    /// <param name="input">The received bytes.</param>
    /// <param name="allowRsv1">Whether RSV1 may be set (permessage-deflate negotiated).</param>
    /// <param name="header">The header read.</param>
    /// <param name="error">Why it was refused.</param>
    public static int Parse(ReadOnlySpan<byte> input, bool allowRsv1, out FrameHeader header, out string? error)
    {
        header = default;
        error = null;
        if (input.Length < 2) return 0;
        byte first = input[0], second = input[1];
        header.Fin = (first & 0x80) != 0;
        header.Compressed = (first & 0x40) != 0;
        header.Opcode = (Opcode)(first & 0x0F);
        header.Masked = (second & 0x80) != 0;
        if ((first & 0x30) != 0 || (header.Compressed && !allowRsv1))
        {
            error = "a reserved bit is set and no extension gives it a meaning";
            return -1;
        }
        if (header.Opcode is not (Opcode.Continuation or Opcode.Text or Opcode.Binary or Opcode.Close or Opcode.Ping or Opcode.Pong))
        {
            error = $"reserved opcode 0x{(byte)header.Opcode:X}";
            return -1;
        }
        int lengthCode = second & 0x7F;
        int length = 2 + (lengthCode == 126 ? 2 : lengthCode == 127 ? 8 : 0) + (header.Masked ? 4 : 0);
        if (input.Length < length) return 0;
        long payload = lengthCode;
        if (lengthCode == 126) payload = BinaryPrimitives.ReadUInt16BigEndian(input[2..]);
        else if (lengthCode == 127)
        {
            ulong wide = BinaryPrimitives.ReadUInt64BigEndian(input[2..]);
            if ((wide & 0x8000_0000_0000_0000) != 0)
            {
                error = "a 64-bit payload length with its most significant bit set";
                return -1;
            }
            payload = (long)wide;
        }
        if (header.IsControl)
        {
            if (payload > MaxControlPayload)
            {
                error = $"a control frame of {payload} bytes (at most {MaxControlPayload})";
                return -1;
            }
            if (!header.Fin)
            {
                error = "a fragmented control frame";
                return -1;
            }
            if (header.Compressed)
            {
                error = "RSV1 on a control frame";
                return -1;
            }
        }
        if (header.Masked) header.MaskKey = BinaryPrimitives.ReadInt32LittleEndian(input[(length - 4)..]);
        header.PayloadLength = payload;
        header.Length = length;
        return length;
    }

    /// <summary>Writes a header into <paramref name="destination"/> (at least <see cref="MaxLength"/> bytes); returns its length.</summary>
    public static int Write(Span<byte> destination, Opcode opcode, bool fin, bool compressed, long payloadLength, int? maskKey)
    {
        destination[0] = (byte)((fin ? 0x80 : 0) | (compressed ? 0x40 : 0) | (byte)opcode);
        byte mask = maskKey is null ? (byte)0 : (byte)0x80;
        int at;
        if (payloadLength <= 125)
        {
            destination[1] = (byte)(mask | payloadLength);
            at = 2;
        }
        else if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = (byte)(mask | 126);
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            at = 4;
        }
        else
        {
            destination[1] = (byte)(mask | 127);
            BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
            at = 10;
        }
        if (maskKey is int key)
        {
            BinaryPrimitives.WriteInt32LittleEndian(destination[at..], key);
            at += 4;
        }
        return at;
    }
}
