using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Meanwhile.Tests;

/// <summary>A fact that needs a process without root's permission override (root opens any file).</summary>
public sealed class NotRootFactAttribute : FactAttribute
{
    public NotRootFactAttribute()
    {
        if (Environment.IsPrivilegedProcess) Skip = "runs as root, which bypasses file permissions (CAP_DAC_OVERRIDE): chmod 000 cannot deny it";
    }
}

/// <summary>A fact only meaningful as root.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess) Skip = "needs root";
    }
}

public sealed class FileStreamTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("meanwhile-files-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Reads_and_writes_at_positions_and_sequentially()
    {
        var path = PathOf("positions.bin");
        Loops.Run(async loop =>
        {
            await using (var file = await DataStream.OpenFileAsync(path, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                await file.WriteAsync("hello "u8.ToArray());
                await file.WriteAsync("world"u8.ToArray());
                Assert.Equal(11, file.Position);
                Assert.Equal(11, file.Length);
                await file.WriteAtAsync(100, "far"u8.ToArray()); // a hole, then three bytes
                Assert.Equal(103, file.Length);
                Assert.Equal(11, file.Position); // positioned writes leave the position alone

                var buffer = new byte[5];
                Assert.Equal(5, await file.ReadAtAsync(6, buffer));
                Assert.Equal("world", Encoding.ASCII.GetString(buffer));
                Assert.Equal(0, await file.ReadAtAsync(103, buffer)); // at the end
                file.Position = 0;
                Assert.Equal(5, await file.ReadAsync(buffer));
                Assert.Equal("hello", Encoding.ASCII.GetString(buffer));
                Assert.Equal(5, file.Position);
                await file.SetLengthAsync(5);
                Assert.Equal(5, file.Length);
                await file.SyncAsync();
                Assert.Equal(0, await file.ReadAsync(buffer));
            }
            Assert.Equal("hello", await FileDataStream.ReadAllTextAsync(path));
        });
    }

    [Fact]
    public void Whole_file_helpers_round_trip_bytes_and_text()
    {
        var path = PathOf("whole.txt");
        var big = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        Loops.Run(async loop =>
        {
            await FileDataStream.WriteAllBytesAsync(path, big);
            Assert.Equal(big, await FileDataStream.ReadAllBytesAsync(path));
            await FileDataStream.WriteAllTextAsync(path, "déjà vu\n");
            await FileDataStream.AppendAllBytesAsync(path, "again\n"u8.ToArray());
            Assert.Equal("déjà vu\nagain\n", await FileDataStream.ReadAllTextAsync(path));
            // Files whose size says 0 still have content (procfs).
            Assert.Contains("Linux", Encoding.ASCII.GetString(await FileDataStream.ReadAllBytesAsync("/proc/version")));
        });
        Assert.Equal("déjà vu\nagain\n", File.ReadAllText(path));
    }

    [Fact]
    public void A_missing_file_a_directory_and_an_existing_file_for_CreateNew_give_typed_errors_naming_the_path()
    {
        var missing = PathOf("no-such-dir/missing.txt");
        var existing = PathOf("existing.txt");
        File.WriteAllText(existing, "x");
        Loops.Run(async loop =>
        {
            var notFound = await Assert.ThrowsAsync<PathNotFoundException>(() => DataStream.OpenFileAsync(missing));
            Assert.Equal(missing, notFound.Subject);
            Assert.Equal("ENOENT", notFound.ErrorName);
            Assert.Contains(missing, notFound.Message);
            await Assert.ThrowsAsync<PathNotFoundException>(() => FileDataStream.ReadAllBytesAsync(missing));

            var directory = await Assert.ThrowsAsync<SystemCallException>(() => DataStream.OpenFileAsync(_dir));
            Assert.Equal("EISDIR", directory.ErrorName);
            Assert.Contains(_dir, directory.Message);
            var directoryStream = await Assert.ThrowsAsync<SystemCallException>(() => DataStream.OpenAsync(_dir));
            Assert.Equal("EISDIR", directoryStream.ErrorName);

            var exists = await Assert.ThrowsAsync<SystemCallException>(() => DataStream.OpenFileAsync(existing, FileMode.CreateNew, FileAccess.Write));
            Assert.Equal("EEXIST", exists.ErrorName);
        });
    }

    [NotRootFact]
    public void A_file_without_permission_gives_PermissionDeniedException()
    {
        var locked = PathOf("locked.txt");
        File.WriteAllText(locked, "secret");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(locked, UnixFileMode.None);
        Loops.Run(async loop =>
        {
            var denied = await Assert.ThrowsAsync<PermissionDeniedException>(() => DataStream.OpenFileAsync(locked));
            Assert.Equal(locked, denied.Subject);
            Assert.Equal("EACCES", denied.ErrorName);
        });
    }

    [RootFact]
    public void Permission_denied_reaches_root_too_where_the_kernel_refuses_it()
    {
        // Root bypasses mode bits, but not ptrace access checks: writing another process's environ is refused (EACCES).
        Loops.Run(async loop =>
        {
            var denied = await Assert.ThrowsAsync<PermissionDeniedException>(() => DataStream.OpenFileAsync("/proc/1/environ", FileMode.Open, FileAccess.Write));
            Assert.Equal("/proc/1/environ", denied.Subject);
        });
    }

    [Fact]
    public void A_full_device_gives_DiskFullException()
    {
        Loops.Run(async loop =>
        {
            await using var full = await DataStream.OpenAsync("/dev/full", FileAccess.Write);
            var error = await Assert.ThrowsAsync<DiskFullException>(async () => await full.WriteAsync(new byte[100]));
            Assert.Equal("ENOSPC", error.ErrorName);
        });
    }

    [Fact]
    public void A_closed_file_throws_ObjectDisposedException()
    {
        var path = PathOf("closed.txt");
        File.WriteAllText(path, "abc");
        Loops.Run(async loop =>
        {
            var file = await DataStream.OpenFileAsync(path);
            await file.DisposeAsync();
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await file.ReadAtAsync(0, new byte[3]));
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await file.ReadAsync(new byte[3]));
        });
    }

    [Fact]
    public void Sendfile_sends_a_64_MiB_file_and_a_range_of_it_to_a_socket_intact()
    {
        var path = PathOf("big.bin");
        var data = new byte[64 * 1024 * 1024];
        new Random(64).NextBytes(data);
        File.WriteAllBytes(path, data);
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0));
            var server = loop.Spawn(async () =>
            {
                await using var file = await DataStream.OpenFileAsync(path);
                await using var connection = await listener.AcceptAsync();
                Assert.Equal(data.Length, await file.SendToAsync(connection, 0, file.Length));
                Assert.Equal(5000, await file.SendToAsync(connection, 1000, 5000));
                Assert.Equal(10, await file.SendToAsync(connection, data.Length - 10, 1000)); // the file ends first
                Assert.Equal(0, file.Position);
                connection.ShutdownWrite();
            }, "sendfile server");

            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[256 * 1024];
            var tail = new MemoryStream();
            long total = 0;
            while (true)
            {
                int n = await client.ReadAsync(buffer);
                if (n == 0) break;
                int intoWhole = (int)Math.Clamp(data.Length - total, 0, n);
                hash.AppendData(buffer, 0, intoWhole);
                tail.Write(buffer, intoWhole, n - intoWhole);
                total += n;
            }
            await server;
            Assert.Equal(data.Length + 5010L, total);
            Assert.Equal(SHA256.HashData(data), hash.GetHashAndReset());
            Assert.Equal(data.AsSpan(1000, 5000).ToArray().Concat(data[^10..]).ToArray(), tail.ToArray());
        });
    }
}
