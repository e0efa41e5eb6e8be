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
    }.Validated(value => IPAddress.TryParse(value, out _) ? null : $"--host takes an IP address such as 127.0.0.1 or 0.0.0.0, not '{value}'.");

    /// <summary><c>--port</c>: the TCP port a server listens on.</summary>
    public static Option<int> Port(int defaultPort) => new Option<int>("--port", "-p")
    {
        Description = "TCP port; 0 picks a free one",
        DefaultValueFactory = _ => defaultPort,
    }.WholeNumber().Validated(value => value is >= 0 and <= 65535 ? null : $"--port must be between 0 and 65535, not {value}.");

    /// <summary><c>--loops</c>: event loops (threads) of a server.</summary>
    public static Option<int> Loops() => new Option<int>("--loops")
    {
        Description = "Event loops (threads), each with its own SO_REUSEPORT listener",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    }.AtLeast(1);

    /// <summary><c>--cacert</c>: PEM certificates trusted for https:// instead of the system store (curl's option).</summary>
    public static Option<FileInfo?> CaCert() => new Option<FileInfo?>("--cacert")
    {
        Description = "For https://, trust the certificates in this PEM file (a private CA, or a server's self-signed certificate) instead of the system's",
        HelpName = "file",
    }.Validated(file => file is null ? null : TlsFiles.ReadTrusted(file.FullName, out _));

    /// <summary>The certificates of a <c>--cacert</c> file; null when none was given.</summary>
    public static System.Security.Cryptography.X509Certificates.X509Certificate2Collection? TrustedRoots(FileInfo? file) =>
        file is null ? null : TlsFiles.ReadTrusted(file.FullName, out var roots) is null ? roots : null;

    /// <summary><c>--json</c>: machine-readable output.</summary>
    public static Option<bool> Json() => new("--json") { Description = "Print the results as JSON (for scripts) instead of tables" };

    /// <summary>Adds a check that fails when the value is below <paramref name="minimum"/>.</summary>
    public static Option<int> AtLeast(this Option<int> option, int minimum) =>
        option.WholeNumber().Validated(value => value >= minimum ? null : $"{option.Name} must be at least {minimum}, not {value}.");

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

    /// <summary>
    /// An option holding a <see cref="Duration"/>: typed as users type it (200ms, 5s), shown that way in help, and
    /// refused with a message that gives examples.
    /// </summary>
    /// <param name="name">The option's name (<c>--wait</c>).</param>
    /// <param name="alias">A short alias, or null.</param>
    /// <param name="description">What it sets.</param>
    /// <param name="defaultValue">Its default.</param>
    /// <param name="allowZero">Whether 0 is a valid length (a timeout of none) rather than an error.</param>
    public static Option<Duration> Duration(string name, string? alias, string description, TimeSpan defaultValue, bool allowZero = false)
    {
        var option = alias is null ? new Option<Duration>(name) : new Option<Duration>(name, alias);
        option.Description = description;
        option.HelpName = "duration";
        option.DefaultValueFactory = _ => new Duration(defaultValue);
        option.CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (Cli.Duration.TryParse(text, out var duration) && (allowZero || duration.Value > TimeSpan.Zero)) return duration;
            result.AddError($"{name} takes a {(allowZero ? "" : "positive ")}duration such as 200ms, 5s or 2m, not '{text}'.");
            return default;
        };
        return option;
    }

    /// <summary>Makes an integer option say "--pages takes a whole number, not 'many'" rather than name a .NET type.</summary>
    public static Option<int> WholeNumber(this Option<int> option)
    {
        option.CustomParser = result => TryWholeNumber(result, option.Name, out int value) ? value : 0;
        return option;
    }

    /// <summary>The same, for an optional integer.</summary>
    public static Option<int?> WholeNumber(this Option<int?> option)
    {
        option.CustomParser = result => TryWholeNumber(result, option.Name, out int value) ? value : null;
        return option;
    }

    private static bool TryWholeNumber(ArgumentResult result, string name, out int value)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value)) return true;
        result.AddError($"{name} takes a whole number, not '{text}'.");
        return false;
    }
}
