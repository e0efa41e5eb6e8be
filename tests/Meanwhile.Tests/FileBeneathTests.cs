using System.Text;

namespace Meanwhile.Tests;

/// <summary>
/// <see cref="DataStream.OpenFileBeneathAsync"/>: a file below a directory, through links that stay inside, and never
/// outside it, whether by <c>..</c>, an absolute path or a link.
/// </summary>
public sealed class FileBeneathTests : IDisposable
{
    private readonly string _base = Directory.CreateTempSubdirectory("meanwhile-beneath-").FullName;
    private readonly string _root;

    public FileBeneathTests()
    {
        _root = Path.Combine(_base, "root");
        Directory.CreateDirectory(Path.Combine(_root, "sub"));
        File.WriteAllText(Path.Combine(_root, "sub", "inside.txt"), "inside");
        File.WriteAllText(Path.Combine(_base, "secret.txt"), "secret");
        File.CreateSymbolicLink(Path.Combine(_root, "alias.txt"), "sub/inside.txt");
        Directory.CreateSymbolicLink(Path.Combine(_root, "sub", "up"), "..");
        File.CreateSymbolicLink(Path.Combine(_root, "relative-out.txt"), "../secret.txt");
        File.CreateSymbolicLink(Path.Combine(_root, "absolute-out.txt"), Path.Combine(_base, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "etc"), "/etc");
    }

    public void Dispose()
    {
        LinuxPaths.WithoutOpenat2 = false;
        Directory.Delete(_base, recursive: true);
    }

    public static TheoryData<string, bool> Inside => new()
    {
        { "sub/inside.txt", false },
        { "alias.txt", false }, // a link that stays inside
        { "sub/up/sub/inside.txt", false }, // ".." through a link, still inside
        { "sub/../sub/inside.txt", false },
        { "sub/inside.txt", true },
        { "alias.txt", true },
        { "sub/up/sub/inside.txt", true },
    };

    public static TheoryData<string, bool> Outside => new()
    {
        { "../secret.txt", false },
        { "sub/../../secret.txt", false },
        { "relative-out.txt", false },
        { "absolute-out.txt", false },
        { "etc/passwd", false },
        { "/etc/passwd", false },
        { "../secret.txt", true },
        { "relative-out.txt", true },
        { "absolute-out.txt", true },
        { "etc/passwd", true },
    };

    // withoutOpenat2: the fallback for kernels before 5.6, which checks the path of the opened descriptor instead.
    [Theory]
    [MemberData(nameof(Inside))]
    public void Files_inside_open(string relative, bool withoutOpenat2)
    {
        LinuxPaths.WithoutOpenat2 = withoutOpenat2;
        Loops.Run(async _ =>
        {
            await using var file = await DataStream.OpenFileBeneathAsync(_root, relative);
            var buffer = new byte[16];
            int read = await file.ReadAsync(buffer);
            Assert.Equal("inside", Encoding.ASCII.GetString(buffer, 0, read));
        });
    }

    [Theory]
    [MemberData(nameof(Outside))]
    public void Nothing_outside_opens(string relative, bool withoutOpenat2)
    {
        LinuxPaths.WithoutOpenat2 = withoutOpenat2;
        Loops.Run(async _ =>
        {
            var error = await Assert.ThrowsAsync<PathOutsideDirectoryException>(() => DataStream.OpenFileBeneathAsync(_root, relative));
            Assert.Contains(relative, error.Message);
        });
    }

    [Fact]
    public void Missing_files_directories_and_fifos_are_typed_errors()
    {
        LinuxPaths.WithoutOpenat2 = false;
        Assert.Equal(0, Mkfifo(Path.Combine(_root, "fifo"), 0x180));
        Loops.Run(async _ =>
        {
            await Assert.ThrowsAsync<PathNotFoundException>(() => DataStream.OpenFileBeneathAsync(_root, "missing.txt"));
            var directory = await Assert.ThrowsAsync<SystemCallException>(() => DataStream.OpenFileBeneathAsync(_root, "sub"));
            Assert.Contains("EISDIR", directory.Message);
            await Assert.ThrowsAsync<InvalidOperationException>(() => DataStream.OpenFileBeneathAsync(_root, "fifo"));
            await Assert.ThrowsAsync<PathNotFoundException>(() => DataStream.OpenFileBeneathAsync(Path.Combine(_base, "nowhere"), "x"));
        });
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int Mkfifo(string path, int mode);
}
