using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Proxy;

/// <summary>
/// Copies an upstream's response head onto the server's response: the status, the fields minus the hop-by-hop ones
/// and those the server writes for its own hop (<c>Date</c>), and <c>Via</c>. The reason phrase is the standard one for
/// the status (the server writes its status lines); the framing is decided by the relay.
/// </summary>
internal static class ForwardedResponseHead
{
    public static void Copy(HttpResponseHead head, ServerResponse response, ProxyOptions options, in ForwardingBytes bytes)
    {
        response.StatusCode = head.StatusCode;
        CopyFields(head, response, options, bytes);
    }

    /// <summary>The fields alone: a 101's status, <c>Upgrade</c> and <c>Connection</c> are the server's to write (<see cref="ServerResponse.Upgrade"/>).</summary>
    public static void CopyFields(HttpResponseHead head, ServerResponse response, ProxyOptions options, in ForwardingBytes bytes)
    {
        var fields = head.Fields;
        bool checkConnection = head.ConnectionNamesOtherOptions;
        // Kept lines stored one after another as "name: value CRLF" (the usual spelling) go out as one run, in one copy.
        ref byte run = ref Unsafe.NullRef<byte>();
        int runLength = 0;
        foreach (var field in fields)
        {
            var name = field.Name;
            if (HopByHop.IsHopByHopOrDate(name)) continue;
            if (checkConnection && HopByHop.NamedByConnection(fields, name)) continue;
            // Checked by the parser, copied as is; the fields the server writes itself (Date and the framing) are hop-by-hop.
            int line = StoredLineLength(field);
            if (line > 0)
            {
                ref byte start = ref MemoryMarshal.GetReference(name);
                if (runLength > 0 && Unsafe.AreSame(ref Unsafe.Add(ref run, runLength), ref start))
                {
                    runLength += line;
                    continue;
                }
                if (runLength > 0) response.AddCheckedFieldLine(MemoryMarshal.CreateReadOnlySpan(ref run, runLength));
                run = ref start;
                runLength = line;
                continue;
            }
            if (runLength > 0) response.AddCheckedFieldLine(MemoryMarshal.CreateReadOnlySpan(ref run, runLength));
            runLength = 0;
            response.AddForwardedField(field);
        }
        if (runLength > 0) response.AddCheckedFieldLine(MemoryMarshal.CreateReadOnlySpan(ref run, runLength));
        if ((options.ForwardedHeaders & ForwardedHeaders.Via) != 0) response.AddCheckedFieldLine(bytes.ViaLine);
    }

    /// <summary>
    /// The length of the field's line as the parser stored it, CRLF included, when it is spelled <c>name: value CRLF</c>
    /// (one space after the colon, none after the value); 0 otherwise. A parsed field's spans point into its head's
    /// stored bytes, where the line's CRLF always follows the value and any whitespace after it: the two bytes read past
    /// the value are there.
    /// </summary>
    private static int StoredLineLength(HttpField field)
    {
        const ushort Separator = ':' | (' ' << 8), LineEnd = '\r' | ('\n' << 8);
        ref byte name = ref MemoryMarshal.GetReference(field.Name);
        int nameLength = field.Name.Length;
        ref byte value = ref MemoryMarshal.GetReference(field.Value);
        int valueLength = field.Value.Length;
        if (!BitConverter.IsLittleEndian || !Unsafe.AreSame(ref Unsafe.Add(ref name, nameLength + 2), ref value)
            || Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref name, nameLength)) != Separator
            || Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref value, valueLength)) != LineEnd) return 0;
        return nameLength + 2 + valueLength + 2;
    }
}
