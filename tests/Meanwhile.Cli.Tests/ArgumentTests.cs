namespace Meanwhile.Cli.Tests;

public sealed class ArgumentTests
{
    [Theory]
    [InlineData("demo", "--pages", "0")]
    [InlineData("demo", "--wait", "soon")]
    [InlineData("demo", "--bogus")]
    [InlineData("echo", "--port", "70000")]
    [InlineData("serve", "--loops", "0")]
    [InlineData("serve", "/no/such/directory")]
    [InlineData("serve", "--host", "not-an-address")]
    [InlineData("fetch")]
    [InlineData("fetch", "ftp://example.com/")]
    [InlineData("bench")]
    [InlineData("bench", "http://127.0.0.1:1/", "-d", "0s")]
    [InlineData("bench", "http://127.0.0.1:1/", "--pipeline", "x")]
    [InlineData("demo", "--concurrency", "0")]
    [InlineData("demo", "--pages", "many")]
    [InlineData("no-such-command")]
    public void Bad_arguments_exit_with_2_and_say_why(params string[] args)
    {
        var (code, stdout, stderr) = ToolProcess.Run(args);
        Assert.True(code == 2, $"exit {code}: {stdout}{stderr}");
        Assert.StartsWith("meanwhile: ", stderr);
        Assert.Contains("--help", stderr);
    }

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
