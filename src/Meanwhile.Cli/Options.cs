using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;

namespace Meanwhile.Cli;

/// <summary>Options several commands share, and value checks that report through the parser (exit code 2).</summary>
internal static class Options
{
    /// <summary><c>--host</c>: the address a server listens on.</summary>
    public static Option<string> Host() => new Option<string>("--host")
    {
        Description = "Address to listen on (127.0.0.1 for this machine only, 0.0.0.0 for every interface)",
        DefaultValueFactory = _ => "127.0.0.1",
        HelpName = "address",
    }.Validated(value => IPAddress.TryParse(value, out _) ? null : $"'{value}' is not an IP address.");

    /// <summary><c>--port</c>: the TCP port a server listens on.</summary>
    public static Option<int> Port(int defaultPort) => new Option<int>("--port", "-p")
    {
        Description = "TCP port; 0 picks a free one",
        DefaultValueFactory = _ => defaultPort,
    }.Validated(value => value is >= 0 and <= 65535 ? null : $"--port must be between 0 and 65535, not {value}.");

    /// <summary><c>--loops</c>: event loops (threads) of a server.</summary>
    public static Option<int> Loops() => new Option<int>("--loops")
    {
        Description = "Event loops (threads), each with its own SO_REUSEPORT listener",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    }.AtLeast(1);

    /// <summary><c>--json</c>: machine-readable output.</summary>
    public static Option<bool> Json() => new("--json") { Description = "Print the results as JSON (for scripts) instead of tables" };

    /// <summary>Adds a check that fails when the value is below <paramref name="minimum"/>.</summary>
    public static Option<int> AtLeast(this Option<int> option, int minimum) =>
        option.Validated(value => value >= minimum ? null : $"{option.Name} must be at least {minimum}, not {value}.");

    /// <summary>Adds a check: <paramref name="check"/> returns an error message, or null when the value is fine.</summary>
    public static Option<T> Validated<T>(this Option<T> option, Func<T, string?> check)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count == 0 && result.Implicit) return; // the default is trusted
            T value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                return; // not a T at all: the parser reports that conversion error itself
            }
            if (value is not null && check(value) is { } error) result.AddError(error);
        });
        return option;
    }

    /// <summary>Parses a duration such as <c>10s</c>, <c>250ms</c>, <c>2m</c> or a bare number of seconds.</summary>
    public static TimeSpan ParseDuration(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (TryParseDuration(text, out var duration) && duration > TimeSpan.Zero) return duration;
        result.AddError($"'{text}' is not a positive duration (examples: 10s, 250ms, 2m).");
        return TimeSpan.Zero;
    }

    private static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        (string number, double scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value)) return false;
        duration = TimeSpan.FromSeconds(value * scale);
        return true;
    }
}
