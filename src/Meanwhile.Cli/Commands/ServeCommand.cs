using System.CommandLine;

namespace Meanwhile.Cli;

/// <summary><c>meanwhile serve [DIR]</c>: a static file server.</summary>
internal static class ServeCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var dir = new Argument<DirectoryInfo?>("dir") { Description = "The directory to serve [default: a sample site built into the tool]", Arity = ArgumentArity.ZeroOrOne };
        dir.Validators.Add(r => { if (r.GetValueOrDefault<DirectoryInfo?>() is { Exists: false } d) r.AddError($"The directory '{d.FullName}' does not exist."); });
        var host = Options.Host();
        var port = Options.Port(8080);
        var loops = Options.Loops();
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No access log" };
        var command = new Command("serve", """
            Serves the files of a directory over HTTP (index.html for directories), logging each request.
            Without a directory it serves a small sample site. Ctrl+C stops it gracefully.
            """)
        { dir, host, port, loops, quiet };
        command.SetAction(async (parse, _) =>
        {
            string? sample = parse.GetValue(dir) is null ? SiteFiles.ExtractSample() : null;
            string root = sample ?? parse.GetValue(dir)!.FullName;
            try
            {
                return await ServerHost.RunAsync(sample is null ? root : "the sample site", SiteFiles.Handler(root), parse.GetValue(host)!, parse.GetValue(port), parse.GetValue(loops), !parse.GetValue(quiet));
            }
            finally
            {
                if (sample is not null) Directory.Delete(sample, recursive: true);
            }
        });
        return command;
    }
}
