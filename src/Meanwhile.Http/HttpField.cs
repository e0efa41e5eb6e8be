namespace Meanwhile.Http;

/// <summary>One field line as received: the name exactly as sent, the value without surrounding SP/HTAB.</summary>
/// <remarks>A ref struct of spans into the parser's head storage: reading fields costs no allocation.</remarks>
public readonly ref struct HttpField
{
    internal HttpField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Name = name;
        Value = value;
    }

    /// <summary>The field name, with the case the sender used.</summary>
    public ReadOnlySpan<byte> Name { get; }

    /// <summary>The field value, leading and trailing SP/HTAB removed (RFC 9112 5.1); may hold obs-text bytes.</summary>
    public ReadOnlySpan<byte> Value { get; }

    /// <summary>True when the name equals <paramref name="name"/> ignoring ASCII case (field names are case-insensitive).</summary>
    /// <param name="name">An ASCII field name.</param>
    /// <returns>Whether the names match.</returns>
    public bool NameEquals(ReadOnlySpan<byte> name) => System.Text.Ascii.EqualsIgnoreCase(Name, name);
}
