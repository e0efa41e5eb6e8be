namespace Meanwhile.Testing;

/// <summary>A temporary directory, readable by all, removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    /// <summary>Makes the directory.</summary>
    public TempDir()
    {
        // Readable by all: nginx's workers run as another user than the test when it runs as root.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
    }

    /// <summary>The directory's full path.</summary>
    public string Path { get; } = Directory.CreateTempSubdirectory("meanwhile-test-").FullName;

    /// <summary>The full path of <paramref name="name"/> inside the directory.</summary>
    public string this[string name] => System.IO.Path.Combine(Path, name);

    /// <summary>Removes the directory and what it holds.</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // a peer may still hold a file; the OS cleans temp
        }
    }
}
