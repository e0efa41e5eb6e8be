namespace Meanwhile.Cli.Tests;

public sealed class ArgumentTests
{
    // Bad arguments: the README's cli-errors table, run by CliErrorsTests.

    [Theory]
    [InlineData]
    [InlineData("demo")]
    [InlineData("serve")]
    [InlineData("echo")]
    [InlineData("fetch")]
    [InlineData("bench")]
    public void Every_command_has_help(params string[] command)
    {
        var (code, stdout, _) = ToolProcess.Run([.. command, "--help"]);
        Assert.Equal(0, code);
        Assert.Contains("Usage:", stdout);
        Assert.Contains("Options:", stdout);
    }
}
