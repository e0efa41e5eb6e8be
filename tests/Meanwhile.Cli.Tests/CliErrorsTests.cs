using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Meanwhile.Cli.Tests;

/// <summary>
/// The README's <c>cli-errors</c> table, run row by row: each bad invocation must exit with the code it shows and
/// print the line it shows first on stderr, so what users read there is what they get.
/// </summary>
public sealed partial class CliErrorsTests
{
    public static TheoryData<string, string, int, string> Rows()
    {
        var rows = new TheoryData<string, string, int, string>();
        foreach (var (command, condition, exit, line) in ReadTable()) rows.Add(command, condition, exit, line);
        return rows;
    }

    [Fact]
    public void The_readme_has_the_table_with_a_row_for_every_command()
    {
        var commands = ReadTable().Select(r => r.Command.Split(' ').ElementAtOrDefault(1) ?? "").ToHashSet();
        Assert.Superset(new HashSet<string> { "", "no-such-command", "demo", "serve", "echo", "fetch", "bench" }, commands);
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void A_bad_invocation_exits_with_the_code_and_the_first_line_the_readme_shows(string command, string condition, int exit, string firstLine)
    {
        string[] args = command.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..]; // after "meanwhile"
        using var held = condition.Contains("taken", StringComparison.Ordinal) ? Hold(int.Parse(PortArgument().Match(command).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)) : null;
        string[] wrapper = condition.Contains("without CAP_NET_BIND_SERVICE", StringComparison.Ordinal) ? ToolProcess.Unprivileged : [];
        using var tool = ToolProcess.StartWith(wrapper, args);
        int code = tool.WaitForExit();
        string first = tool.Stderr.Split('\n')[0].TrimEnd('\r');
        Assert.True(code == exit, $"{command}: exit {code}, the README says {exit}\n{tool.Stderr}{tool.Stdout}");
        // "…" in the README stands for text that varies (a count).
        var expected = new Regex("^" + string.Join(".*", firstLine.Split('…').Select(Regex.Escape)) + "$");
        Assert.True(expected.IsMatch(first), $"{command}:\n  README: {firstLine}\n  stderr: {first}");
    }

    /// <summary>Holds <paramref name="port"/> on 127.0.0.1 (if another program has it already, it is taken all the same).</summary>
    private static Socket? Hold(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            socket.Listen();
            return socket;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            return null;
        }
    }

    /// <summary>The rows of the table after the <c>cli-errors</c> marker: command, condition, exit code, first line.</summary>
    private static List<(string Command, string Condition, int Exit, string Line)> ReadTable()
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryRoot(), "README.md"));
        int marker = Array.FindIndex(lines, l => l.StartsWith("<!-- cli-errors", StringComparison.Ordinal));
        Assert.True(marker >= 0, "README.md has no cli-errors table");
        var rows = new List<(string, string, int, string)>();
        foreach (var line in lines.Skip(marker + 3).TakeWhile(l => l.StartsWith('|')))
        {
            var cells = line.Split('|')[1..^1].Select(c => c.Trim()).ToArray();
            var command = Code().Match(cells[0]).Groups[1].Value;
            string condition = cells[0][(cells[0].LastIndexOf('`') + 1)..];
            rows.Add((command, condition, int.Parse(cells[1], System.Globalization.CultureInfo.InvariantCulture), Code().Match(cells[2]).Groups[1].Value));
        }
        Assert.NotEmpty(rows);
        return rows;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Meanwhile.slnx"))) return dir.FullName;
        throw new InvalidOperationException($"no Meanwhile.slnx above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex("`([^`]*)`")]
    private static partial Regex Code();

    [GeneratedRegex(@"--port (\d+)")]
    private static partial Regex PortArgument();
}
