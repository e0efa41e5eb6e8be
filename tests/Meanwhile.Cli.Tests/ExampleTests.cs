namespace Meanwhile.Cli.Tests;

public sealed class ExampleTests
{
    [Fact]
    public void Seed_io_example_runs_a_browser_and_a_server_in_one_process()
    {
        using var example = ToolProcess.StartAssembly("SeedIO.dll");
        Assert.Equal(0, example.WaitForExit());
        Assert.Contains("5 pages one after the other", example.Stdout);
        Assert.Contains("5 pages all at once", example.Stdout);
        Assert.Equal(10, example.Stdout.Split('\n').Count(l => l.Contains("<h1>Page", StringComparison.Ordinal)));
    }

    [Fact]
    public void Seed_io_browser_talks_to_the_seed_io_server()
    {
        using var server = ToolProcess.StartAssembly("SeedIO.dll", "server", "--port", "0");
        var url = server.WaitListening();
        using var browser = ToolProcess.StartAssembly("SeedIO.dll", "browser", url.ToString(), "3");
        Assert.Equal(0, browser.WaitForExit());
        Assert.Contains("/page/3: <h1>Page 3</h1>", browser.Stdout);
    }

    [Fact]
    public void The_crawler_example_fetches_every_page_of_a_1000_page_site_through_a_bounded_queue()
    {
        using var crawler = ToolProcess.StartAssembly("Crawler.dll");
        Assert.Equal(0, crawler.WaitForExit());
        Assert.Contains("crawled 1000 pages (0 failed) with 16 workers", crawler.Stdout);
        Assert.Equal("", crawler.Stderr);
    }
}
