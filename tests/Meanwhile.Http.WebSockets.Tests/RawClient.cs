using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Meanwhile.Http.WebSockets.Tests;

/// <summary>A blocking WebSocket client that writes frames byte by byte as a test wants them, broken ones included.</summary>
internal sealed class RawClient : IDisposable
{
    private readonly Socket _socket;
    private readonly MemoryStream _pending = new();

    public RawClient(int port)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 15_000 };
        _socket.Connect(IPAddress.Loopback, port);
    }

    public static string ValidKey { get; } = Convert.ToBase64String(new byte[16]);

    /// <summary>Sends a handshake (extra lines replace the defaults of the same name; a null value leaves the field out) and reads the response head.</summary>
    public (int Status, string Head, string Body) Handshake(string path = "/ws", params (string Name, string? Value)[] fields)
    {
        var all = new List<(string, string?)> { ("Host", "localhost"), ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", ValidKey), ("Sec-WebSocket-Version", "13") };
        foreach (var (name, value) in fields)
        {
            all.RemoveAll(f => string.Equals(f.Item1, name, StringComparison.OrdinalIgnoreCase));
            all.Add((name, value));
        }
        var request = new StringBuilder($"GET {path} HTTP/1.1\r\n");
        foreach (var (name, value) in all)
        {
            if (value is not null) request.Append($"{name}: {value}\r\n");
        }
        request.Append("\r\n");
        Send(Encoding.ASCII.GetBytes(request.ToString()));
        return ReadHead();
    }

    public (int Status, string Head, string Body) ReadHead()
    {
        while (true)
        {
            var text = Encoding.Latin1.GetString(_pending.GetBuffer(), 0, (int)_pending.Length);
            int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                string head = text[..end];
                int length = 0;
                foreach (var line in head.Split("\r\n"))
                {
                    if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line[15..].Trim());
                }
                while (_pending.Length < end + 4 + length) Receive();
                text = Encoding.Latin1.GetString(_pending.GetBuffer(), 0, (int)_pending.Length);
                Take(end + 4 + length);
                return (int.Parse(head.Substring(9, 3)), head, text.Substring(end + 4, length));
            }
            if (Receive() == 0) throw new EndOfStreamException($"closed before a response head: {text}");
        }
    }

    public void Send(byte[] bytes) => _socket.Send(bytes);

    /// <summary>A frame as a client sends it: masked unless told otherwise.</summary>
    public static byte[] Frame(int opcode, byte[] payload, bool fin = true, bool mask = true, int rsv = 0)
    {
        var frame = new MemoryStream();
        frame.WriteByte((byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode));
        byte maskBit = mask ? (byte)0x80 : (byte)0;
        if (payload.Length <= 125) frame.WriteByte((byte)(maskBit | payload.Length));
        else if (payload.Length <= 65535)
        {
            frame.WriteByte((byte)(maskBit | 126));
            frame.WriteByte((byte)(payload.Length >> 8));
            frame.WriteByte((byte)payload.Length);
        }
        else
        {
            frame.WriteByte((byte)(maskBit | 127));
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(length, (ulong)payload.Length);
            frame.Write(length);
        }
        byte[] key = mask ? RandomNumberGenerator.GetBytes(4) : [];
        frame.Write(key);
        for (int i = 0; i < payload.Length; i++) frame.WriteByte(mask ? (byte)(payload[i] ^ key[i % 4]) : payload[i]);
        return frame.ToArray();
    }

    public static byte[] Close(int code, string reason = "")
    {
        var payload = new byte[2 + Encoding.UTF8.GetByteCount(reason)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        Encoding.UTF8.GetBytes(reason, payload.AsSpan(2));
        return Frame(8, payload);
    }

    /// <summary>Whether the last frame read had RSV1 set (permessage-deflate's compressed message).</summary>
    public bool LastRsv1 { get; private set; }

    /// <summary>Reads one frame from the server (unmasked, as a server sends).</summary>
    public (int Opcode, bool Fin, byte[] Payload) ReadFrame()
    {
        Need(2);
        var b = _pending.GetBuffer();
        int opcode = b[0] & 0x0F;
        bool fin = (b[0] & 0x80) != 0;
        LastRsv1 = (b[0] & 0x40) != 0;
        if ((b[1] & 0x80) != 0) throw new InvalidDataException("a server frame was masked");
        long length = b[1] & 0x7F;
        int at = 2;
        if (length == 126)
        {
            Need(4);
            b = _pending.GetBuffer();
            length = BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(2));
            at = 4;
        }
        else if (length == 127)
        {
            Need(10);
            b = _pending.GetBuffer();
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(b.AsSpan(2));
            at = 10;
        }
        Need(at + (int)length);
        var payload = _pending.GetBuffer().AsSpan(at, (int)length).ToArray();
        Take(at + (int)length);
        return (opcode, fin, payload);
    }

    /// <summary>Reads the server's close frame; returns its code (-1 for none).</summary>
    public int ReadClose()
    {
        while (true)
        {
            var (opcode, _, payload) = ReadFrame();
            if (opcode == 8) return payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : -1;
        }
    }

    /// <summary>True once the server closed the TCP connection (a read returns 0 or the connection was reset).</summary>
    public bool ServerClosed()
    {
        try
        {
            while (true)
            {
                if (Receive() == 0) return true;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    private void Need(int count)
    {
        while (_pending.Length < count)
        {
            if (Receive() == 0) throw new EndOfStreamException($"closed with {_pending.Length} of {count} bytes");
        }
    }

    private int Receive()
    {
        var buffer = new byte[65536];
        int n = _socket.Receive(buffer);
        _pending.Seek(0, SeekOrigin.End);
        _pending.Write(buffer, 0, n);
        return n;
    }

    private void Take(int count)
    {
        var rest = _pending.GetBuffer().AsSpan(count, (int)_pending.Length - count).ToArray();
        _pending.SetLength(0);
        _pending.Write(rest);
    }

    public void Dispose() => _socket.Dispose();
}
