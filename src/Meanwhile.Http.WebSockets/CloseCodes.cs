namespace Meanwhile.Http.WebSockets;

/// <summary>Which close codes may travel in a close frame (RFC 6455 7.4).</summary>
internal static class CloseCodes
{
    /// <summary>Whether <paramref name="code"/> may be sent or received on the wire.</summary>
    public static bool IsValidOnWire(int code) => code switch
    {
        >= 1000 and <= 1003 => true,
        >= 1007 and <= 1011 => true,
        1012 or 1013 or 1014 => true, // registered with IANA since the RFC: restart, try again later, bad gateway
        >= 3000 and <= 4999 => true,
        _ => false, // 1004-1006 and 1015 are reserved, never sent; the rest is unassigned
    };
}
