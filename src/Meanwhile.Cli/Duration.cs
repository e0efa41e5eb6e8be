using System.Globalization;

namespace Meanwhile.Cli;

/// <summary>
/// A length of time as users type it on a command line (<c>200ms</c>, <c>5s</c>, <c>2m</c>, <c>1h</c>, or a bare number
/// of seconds) and as the tool writes it back, in help and messages, rather than <see cref="TimeSpan"/>'s
/// <c>00:00:00.2000000</c>.
/// </summary>
/// <param name="Value">The length.</param>
internal readonly record struct Duration(TimeSpan Value)
{
    /// <summary>Reads <paramref name="text"/>; false unless it is a finite, non-negative length in one of the accepted forms.</summary>
    public static bool TryParse(string text, out Duration duration)
    {
        duration = default;
        (string number, double seconds) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value * seconds)) return false;
        duration = new Duration(TimeSpan.FromSeconds(value * seconds));
        return true;
    }

    /// <summary>The shortest exact form in one unit: <c>200ms</c>, <c>5s</c>, <c>1.5s</c>, <c>2m</c>, <c>1h</c>.</summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        double ms = Value.TotalMilliseconds;
        if (ms < 1000 || ms % 100 != 0) return string.Create(c, $"{ms:0.###}ms");
        if (ms % 3_600_000 == 0) return string.Create(c, $"{ms / 3_600_000:0}h");
        if (ms % 60_000 == 0) return string.Create(c, $"{ms / 60_000:0}m");
        return string.Create(c, $"{ms / 1000:0.#}s");
    }

    /// <summary>The length.</summary>
    public static implicit operator TimeSpan(Duration duration) => duration.Value;
}
