using System.CommandLine;
using System.CommandLine.Parsing;

namespace Meanwhile.Cli;

/// <summary><c>meanwhile serve [DIR]</c>: a static file server.</summary>
internal static class ServeCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var dir = new Argument<DirectoryInfo?>("dir") { Description = "The directory to serve [default: a sample site built into the tool]", Arity = ArgumentArity.ZeroOrOne };
        dir.Validators.Add(CheckDirectory);
        var listing = new Option<bool>("--listing") { Description = "List the entries of a directory that has no index.html (otherwise 404)" };
        var openFileCache = new Option<bool>("--open-file-cache")
        {
            Description = "Keep up to 1000 files open with their size and validators for 1 s, as nginx's open_file_cache (a file rewritten in place within that second may be served with its old length)",
        };
        var server = new ServerOptions("No access log");
        var command = new Command("serve", """
            Serves the files of a directory over HTTP (index.html for directories), logging each request.
            Without a directory it serves a small sample site. Ctrl+C stops it gracefully.
            """)
        { dir, listing, openFileCache };
        server.AddTo(command);
        command.SetAction(async (parse, _) =>
        {
            string? sample = parse.GetValue(dir) is null ? SiteFiles.ExtractSample() : null;
            string root = sample ?? parse.GetValue(dir)!.FullName;
            try
            {
                return await ServerHost.RunAsync(sample is null ? root : "the sample site", SiteFiles.Handler(root, parse.GetValue(listing), parse.GetValue(openFileCache)), server.Read(parse));
            }
            finally
            {
                if (sample is not null) Directory.Delete(sample, recursive: true);
            }
        });
        return command;
    }

    /// <summary>Says what is wrong with the directory given: an option it does not know, a file, or nothing there.</summary>
    private static void CheckDirectory(ArgumentResult result)
    {
        if (result.Tokens.Count == 0) return;
        string text = result.Tokens[0].Value;
        if (Directory.Exists(text)) return;
        // An unknown option lands here, in the free argument slot, before the parser can call it unknown.
        if (text.StartsWith('-')) result.AddError($"Unknown option '{text}'.");
        else if (File.Exists(text)) result.AddError($"'{text}' is a file; serve takes a directory (its index.html is the home page).");
        else result.AddError($"The directory '{text}' does not exist.");
    }
}
