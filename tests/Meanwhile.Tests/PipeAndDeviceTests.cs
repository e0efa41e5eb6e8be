using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Meanwhile.Tests;

public sealed class PipeAndDeviceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("meanwhile-pipes-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string MakeFifo(string name)
    {
        var path = Path.Combine(_dir, name);
        using var mkfifo = Process.Start("mkfifo", [path]);
        Assert.True(mkfifo.WaitForExit(10_000), "mkfifo did not finish");
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    private static async Task<byte[]> ReadToEndAsync(DataStream stream)
    {
        var all = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0) all.Write(buffer, 0, n);
        return all.ToArray();
    }

    [Fact]
    public void A_FIFO_fed_by_sh_reads_on_the_loop_whichever_end_opens_first()
    {
        var fifo = MakeFifo("fed-by-sh");
        Loops.Run(async loop =>
        {
            // The reader opens first: before any writer, the FIFO must not look like end of stream.
            await using (var reader = await DataStream.OpenAsync(fifo))
            {
                Assert.StartsWith("fifo ", reader.Description);
                var read = loop.Spawn(() => ReadToEndAsync(reader), "fifo reader");
                await loop.Yield();
                using var sh = Process.Start("sh", ["-c", $"printf 'hello from sh\\n%s\\n' second-line > '{fifo}'"]);
                Assert.Equal("hello from sh\nsecond-line\n", Encoding.ASCII.GetString(await read));
                Assert.True(await loop.RunOnWorker(() => sh.WaitForExit(10_000)));
            }

            // The writer opens first: sh blocks in open(2) until the loop opens the FIFO.
            using var sh2 = Process.Start("sh", ["-c", $"printf 'writer was first' > '{fifo}'"]);
            await using var reader2 = await DataStream.OpenAsync(fifo);
            Assert.Equal("writer was first", Encoding.ASCII.GetString(await ReadToEndAsync(reader2)));
            Assert.True(await loop.RunOnWorker(() => sh2.WaitForExit(10_000)));
        });
    }

    [Fact]
    public void Writing_to_a_FIFO_waits_for_a_reader_and_can_be_cancelled_meanwhile()
    {
        var fifo = MakeFifo("to-cat");
        Loops.Run(async loop =>
        {
            // Nobody reads: the open keeps waiting until it is cancelled.
            using (var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => DataStream.OpenAsync(fifo, FileAccess.Write, deadline.Token));

            var open = loop.Spawn(() => DataStream.OpenAsync(fifo, FileAccess.Write), "fifo writer open");
            var psi = new ProcessStartInfo("cat", [fifo]) { RedirectStandardOutput = true };
            using var cat = Process.Start(psi)!;
            var catOutput = loop.RunOnWorker(() => cat.StandardOutput.ReadToEnd());
            await using (var writer = await open)
            {
                await writer.WriteAsync(Encoding.ASCII.GetBytes("through the fifo\n"));
            }
            Assert.Equal("through the fifo\n", await catOutput);
        });
    }

    [Fact]
    public void Dev_urandom_gives_the_bytes_asked_for()
    {
        Loops.Run(async loop =>
        {
            await using var random = await DataStream.OpenAsync("/dev/urandom");
            Assert.Equal("char device /dev/urandom", random.Description);
            var buffer = new byte[1 << 20];
            int filled = 0;
            while (filled < buffer.Length) filled += await random.ReadAsync(buffer.AsMemory(filled));
            Assert.Contains(buffer, b => b != 0);
            Assert.True(buffer.Distinct().Count() > 200);
        });
    }

    [Fact]
    public void Dev_zero_gives_zeros_and_dev_null_swallows_writes_and_reads_as_end_of_stream()
    {
        Loops.Run(async loop =>
        {
            await using (var zero = await DataStream.OpenAsync("/dev/zero"))
            {
                var buffer = new byte[256 * 1024];
                Array.Fill(buffer, (byte)0xAA);
                int filled = 0;
                while (filled < buffer.Length) filled += await zero.ReadAsync(buffer.AsMemory(filled));
                Assert.All(buffer, b => Assert.Equal(0, b));
            }
            await using (var sink = await DataStream.OpenAsync("/dev/null", FileAccess.Write))
            {
                for (int i = 0; i < 64; i++) await sink.WriteAsync(new byte[64 * 1024]);
            }
            await using var empty = await DataStream.OpenAsync("/dev/null");
            Assert.Equal(0, await empty.ReadAsync(new byte[10]));
        });
    }

    [Fact]
    public void An_anonymous_pipe_carries_256_MiB_intact_between_two_tasks_on_one_loop()
    {
        const long Total = 256L * 1024 * 1024;
        Loops.Run(async loop =>
        {
            var (reader, writer) = DataStream.CreatePipe();
            await using var _ = reader;
            var write = loop.Spawn(async () =>
            {
                await using var __ = writer;
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var random = new Random(256);
                var buffer = new byte[200_000];
                long sent = 0;
                while (sent < Total)
                {
                    int n = (int)Math.Min(random.Next(1, buffer.Length), Total - sent);
                    random.NextBytes(buffer.AsSpan(0, n));
                    hash.AppendData(buffer, 0, n);
                    await writer.WriteAsync(buffer.AsMemory(0, n));
                    sent += n;
                }
                return hash.GetHashAndReset();
            }, "pipe writer");
            var read = loop.Spawn(async () =>
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var random = new Random(1);
                var buffer = new byte[150_000];
                long received = 0;
                int n;
                while ((n = await reader.ReadAsync(buffer.AsMemory(0, random.Next(1, buffer.Length)))) > 0)
                {
                    hash.AppendData(buffer, 0, n);
                    received += n;
                }
                Assert.Equal(Total, received);
                return hash.GetHashAndReset();
            }, "pipe reader");
            Assert.Equal(await write, await read);
        });
    }

    [EpollFact]
    public void A_FIFO_is_watched_by_epoll_while_dev_null_goes_to_workers()
    {
        var fifo = MakeFifo("lanes");
        Loops.Run(async loop =>
        {
            await using var reader = await DataStream.OpenAsync(fifo);
            Assert.IsAssignableFrom<PolledDescriptorStream>(reader.Platform);
            var (pipeReader, pipeWriter) = DataStream.CreatePipe();
            await using (pipeReader) await using (pipeWriter) Assert.IsAssignableFrom<PolledDescriptorStream>(pipeWriter.Platform);
            // Whether /dev/urandom polls depends on the kernel version; either lane must read it (tested above).
            await using var sink = await DataStream.OpenAsync("/dev/null", FileAccess.Write);
            Assert.IsType<BlockingDescriptorStream>(sink.Platform); // epoll_ctl said EPERM
        });
    }
}

/// <summary>
/// Runs alone: a test that starts a process forks this one, and between fork and exec the child holds a copy of every
/// descriptor (close-on-exec ones too), this pipe's read end among them, so a write in that window would succeed.
/// </summary>
[Collection(nameof(DescriptorCounting))]
public sealed class BrokenPipeTests
{
    [Fact]
    public void Writing_to_a_pipe_whose_reader_is_gone_gives_BrokenPipeException()
    {
        Loops.Run(async loop =>
        {
            var (reader, writer) = DataStream.CreatePipe();
            await reader.DisposeAsync();
            await using var _ = writer;
            await Assert.ThrowsAsync<BrokenPipeException>(async () => await writer.WriteAsync(new byte[10]));
        });
    }
}
