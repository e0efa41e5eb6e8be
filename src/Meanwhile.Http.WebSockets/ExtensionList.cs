using System.Text;

namespace Meanwhile.Http.WebSockets;

/// <summary>One extension of a <c>Sec-WebSocket-Extensions</c> list (RFC 6455 9.1): its name and its parameters in order.</summary>
internal sealed record ExtensionItem(string Name, IReadOnlyList<KeyValuePair<string, string?>> Parameters);

/// <summary>
/// Parses <c>Sec-WebSocket-Extensions</c> fields (RFC 6455 9.1): a comma-separated list of extensions, each a token
/// followed by <c>; name</c> or <c>; name=value</c> parameters, a value being a token or a quoted string.
/// </summary>
internal static class ExtensionList
{
    /// <summary>The extensions of every field named <c>Sec-WebSocket-Extensions</c>, in order; null when one is malformed.</summary>
    public static List<ExtensionItem>? Parse(HttpFieldList fields)
    {
        var items = new List<ExtensionItem>();
        foreach (var field in fields)
        {
            if (!field.NameEquals("Sec-WebSocket-Extensions"u8)) continue;
            if (!TryParse(Encoding.Latin1.GetString(field.Value), items)) return null;
        }
        return items;
    }

    /// <summary>Parses one field value into <paramref name="items"/>; false when it is malformed.</summary>
    public static bool TryParse(string value, List<ExtensionItem> items)
    {
        int at = 0;
        while (true)
        {
            SkipSpace(value, ref at);
            if (at == value.Length) return true;
            if (value[at] == ',')
            {
                at++; // empty list elements are allowed (RFC 9110 5.6.1)
                continue;
            }
            string? name = Token(value, ref at);
            if (name is null) return false;
            var parameters = new List<KeyValuePair<string, string?>>();
            SkipSpace(value, ref at);
            while (at < value.Length && value[at] == ';')
            {
                at++;
                SkipSpace(value, ref at);
                string? parameter = Token(value, ref at);
                if (parameter is null) return false;
                SkipSpace(value, ref at);
                string? parameterValue = null;
                if (at < value.Length && value[at] == '=')
                {
                    at++;
                    SkipSpace(value, ref at);
                    parameterValue = at < value.Length && value[at] == '"' ? QuotedToken(value, ref at) : Token(value, ref at);
                    if (parameterValue is null) return false;
                    SkipSpace(value, ref at);
                }
                parameters.Add(new(parameter, parameterValue));
            }
            items.Add(new ExtensionItem(name, parameters));
            if (at == value.Length) return true;
            if (value[at] != ',') return false;
            at++;
        }
    }

    private static void SkipSpace(string s, ref int at)
    {
        while (at < s.Length && s[at] is ' ' or '\t') at++;
    }

    private static string? Token(string s, ref int at)
    {
        int start = at;
        while (at < s.Length && IsTokenChar(s[at])) at++;
        return at > start ? s[start..at] : null;
    }

    /// <summary>A quoted string whose content, once unescaped, is a token (RFC 6455 9.1 asks that of parameter values).</summary>
    private static string? QuotedToken(string s, ref int at)
    {
        var content = new StringBuilder();
        at++; // the opening quote
        while (at < s.Length && s[at] != '"')
        {
            if (s[at] == '\\' && at + 1 < s.Length) at++;
            content.Append(s[at++]);
        }
        if (at == s.Length) return null;
        at++; // the closing quote
        string text = content.ToString();
        int inner = 0;
        return Token(text, ref inner) is { } token && inner == text.Length ? token : null;
    }

    private static bool IsTokenChar(char c) =>
        c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9'
        || "!#$%&'*+-.^_`|~".Contains(c);
}
