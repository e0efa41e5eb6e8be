using System.Diagnostics;
using System.Text;

namespace Meanwhile.Tests;

/// <summary>Real child processes (sh, echo, cat, sleep, yes) through their pipes, on whichever reactor the suite runs.</summary>
public class ChildProcessTests
{
    internal static readonly ChildProcessOptions Piped = new()
    {
        StandardInput = ProcessStdio.Pipe,
        StandardOutput = ProcessStdio.Pipe,
        StandardError = ProcessStdio.Pipe,
    };

    private static readonly ChildProcessOptions OutputPiped = new() { StandardOutput = ProcessStdio.Pipe };

    internal static async Task<string> ReadAllText(DataStream stream) =>
        Encoding.UTF8.GetString(await TcpStreamTests.ReadToEndAsync(stream));

    [Fact]
    public void Echo_output_is_captured_and_the_exit_code_is_zero()
    {
        Loops.Run(async loop =>
        {
            await using var echo = ChildProcess.Start("echo", ["hello", "world"], OutputPiped);
            Assert.True(echo.Id > 0);
            Assert.Null(echo.StandardInput);
            Assert.Null(echo.StandardError);
            Assert.Equal("hello world\n", await ReadAllText(echo.StandardOutput!));
            Assert.Equal(0, await echo.WaitForExitAsync());
            Assert.True(echo.HasExited);
            Assert.Equal(0, echo.ExitCode);
            Assert.Null(echo.Signal);
        });
    }

    [Fact]
    public void Exit_codes_and_stderr_come_back_separately()
    {
        Loops.Run(async loop =>
        {
            await using var child = ChildProcess.Start("sh", ["-c", "echo out; echo err >&2; exit 3"], Piped);
            var stderr = loop.Spawn(() => ReadAllText(child.StandardError!), "stderr reader");
            Assert.Equal("out\n", await ReadAllText(child.StandardOutput!));
            Assert.Equal("err\n", await stderr);
            Assert.Equal(3, await child.WaitForExitAsync());
            Assert.Equal(3, child.ExitCode);
            Assert.Null(child.Signal);
        });
    }

    [Fact]
    public void One_GiB_through_cat_in_random_chunks_arrives_intact()
    {
        Loops.Run(async loop =>
        {
            await using var cat = ChildProcess.Start("cat", null, Piped with { StandardError = ProcessStdio.Inherit });
            await TcpStreamTests.PumpAndCompare(loop, cat.StandardInput!, cat.StandardOutput!, 1L << 30, seed: 5);
            Assert.Equal(0, await cat.WaitForExitAsync());
        });
    }

    [Fact]
    public void Killing_a_sleeping_child_reports_the_signal()
    {
        Loops.Run(async loop =>
        {
            await using var terminated = ChildProcess.Start("sleep", ["1000"]);
            await using var killed = ChildProcess.Start("sleep", ["1000"]);
            Assert.False(terminated.HasExited);
            terminated.Kill();
            killed.Kill(ProcessSignal.Kill);
            Assert.Equal(128 + 15, await terminated.WaitForExitAsync());
            Assert.Equal(ProcessSignal.Terminate, terminated.Signal);
            Assert.Equal(128 + 9, await killed.WaitForExitAsync());
            Assert.Equal(ProcessSignal.Kill, killed.Signal);
            killed.Kill(); // a child that has ended ignores signals
        });
    }

    [Fact]
    public void Several_waiters_see_the_same_exit_and_a_cancelled_wait_leaves_the_child_running()
    {
        Loops.Run(async loop =>
        {
            await using var child = ChildProcess.Start("sleep", ["1000"]);
            var first = loop.Spawn(() => child.WaitForExitAsync(), "waiter 1");
            var second = loop.Spawn(() => child.WaitForExitAsync(), "waiter 2");
            var cancelled = loop.Spawn(() => child.WaitForExitAsync(), "cancelled waiter");
            await loop.Yield();
            cancelled.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);
            Assert.False(child.HasExited);
            child.Kill(ProcessSignal.Kill);
            Assert.Equal(137, await first);
            Assert.Equal(137, await second);
        });
    }

    [Fact]
    public void Twenty_children_on_one_loop_run_at_the_same_time()
    {
        Loops.Run(async loop =>
        {
            const int count = 20;
            var clock = Stopwatch.StartNew();
            var children = Enumerable.Range(0, count).Select(i => loop.Spawn(async () =>
            {
                await using var child = ChildProcess.Start("sh", ["-c", $"sleep 0.2; echo {i}"], OutputPiped);
                string output = await ReadAllText(child.StandardOutput!);
                Assert.Equal(0, await child.WaitForExitAsync());
                return output;
            }, $"child {i}")).ToArray();
            for (int i = 0; i < count; i++) Assert.Equal($"{i}\n", await children[i]);
            // One after the other they would take 4 s; together, about one child's 0.2 s (generous margin for a busy machine).
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"{count} children took {clock.Elapsed}");
        });
    }

    [Fact]
    public void A_missing_program_fails_with_PathNotFound_naming_it()
    {
        Loops.Run(loop =>
        {
            var error = Assert.Throws<PathNotFoundException>(() => ChildProcess.Start("no-such-program-meanwhile", ["x"]));
            Assert.Equal("ENOENT", error.ErrorName);
            Assert.Equal("no-such-program-meanwhile", error.Subject);
            Assert.Contains("no-such-program-meanwhile", error.Message);
            var missingPath = Assert.Throws<PathNotFoundException>(() => ChildProcess.Start("/no/such/dir/program"));
            Assert.Contains("/no/such/dir/program", missingPath.Message);
            var missingDirectory = Assert.Throws<PathNotFoundException>(() =>
                ChildProcess.Start("true", null, new ChildProcessOptions { WorkingDirectory = "/no/such/directory" }));
            Assert.Equal("/no/such/directory", missingDirectory.Subject);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void A_file_that_is_not_executable_fails_with_PermissionDenied()
    {
        var path = Path.Combine(Path.GetTempPath(), $"meanwhile-not-executable-{Guid.NewGuid():N}");
        File.WriteAllText(path, "#!/bin/sh\necho never\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try
        {
            Loops.Run(loop =>
            {
                var error = Assert.Throws<PermissionDeniedException>(() => ChildProcess.Start(path));
                Assert.Equal("EACCES", error.ErrorName);
                Assert.Contains(path, error.Message);
                return Task.CompletedTask;
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_working_directory_and_environment_changes_reach_the_child()
    {
        var directory = Directory.CreateTempSubdirectory("meanwhile-cwd-").FullName;
        try
        {
            Loops.Run(async loop =>
            {
                var options = OutputPiped with
                {
                    WorkingDirectory = directory,
                    Environment = new Dictionary<string, string?> { ["MEANWHILE_TEST"] = "héllo wörld", ["HOME"] = null },
                };
                await using var child = ChildProcess.Start("sh", ["-c", "pwd; echo \"$MEANWHILE_TEST\"; echo \"${HOME-unset}\""], options);
                Assert.Equal($"{directory}\nhéllo wörld\nunset\n", await ReadAllText(child.StandardOutput!));
                Assert.Equal(0, await child.WaitForExitAsync());
            });
        }
        finally
        {
            Directory.Delete(directory);
        }
    }

    [Fact]
    public void Null_stdio_reads_end_of_stream_and_discards_output()
    {
        Loops.Run(async loop =>
        {
            await using var cat = ChildProcess.Start("cat", null, new ChildProcessOptions { StandardInput = ProcessStdio.Null, StandardOutput = ProcessStdio.Pipe });
            Assert.Equal("", await ReadAllText(cat.StandardOutput!));
            Assert.Equal(0, await cat.WaitForExitAsync());

            var quiet = new ChildProcessOptions { StandardOutput = ProcessStdio.Null, StandardError = ProcessStdio.Null };
            await using var noisy = ChildProcess.Start("sh", ["-c", "echo discarded; echo discarded >&2; exit 4"], quiet);
            Assert.Null(noisy.StandardOutput);
            Assert.Equal(4, await noisy.WaitForExitAsync());
        });
    }

    // Epoll only: this is posix_spawn's signal attributes at work. On the portable reactor the child gets whatever
    // System.Diagnostics.Process leaves it (SIGPIPE sometimes still ignored: `yes` then exits 1 on EPIPE).
    [EpollFact]
    public void A_child_whose_reader_went_away_dies_of_SIGPIPE_as_in_a_shell()
    {
        Loops.Run(async loop =>
        {
            // The runtime ignores SIGPIPE; the child must get the default back, or `yes` would loop on EPIPE errors.
            await using var yes = ChildProcess.Start("yes", null, OutputPiped);
            var buffer = new byte[16];
            Assert.True(await yes.StandardOutput!.ReadAsync(buffer) > 0);
            await yes.StandardOutput.DisposeAsync();
            Assert.Equal(128 + 13, await yes.WaitForExitAsync());
            Assert.Equal(ProcessSignal.Pipe, yes.Signal);
        });
    }

    [Fact]
    public void Writing_to_a_child_that_exited_fails_with_BrokenPipe()
    {
        Loops.Run(async loop =>
        {
            await using var child = ChildProcess.Start("true", null, new ChildProcessOptions { StandardInput = ProcessStdio.Pipe });
            Assert.Equal(0, await child.WaitForExitAsync());
            var error = await Assert.ThrowsAsync<BrokenPipeException>(async () => await child.StandardInput!.WriteAsync(new byte[1]));
            Assert.Contains("stdin", error.Message);
        });
    }

    [Fact]
    public void Disposing_kills_a_running_child_and_reaps_it()
    {
        Loops.Run(async loop =>
        {
            var child = ChildProcess.Start("sleep", ["1000"], Piped);
            int pid = child.Id;
            Assert.True(Directory.Exists($"/proc/{pid}"));
            await child.DisposeAsync();
            await child.DisposeAsync(); // twice is fine
            Assert.Equal(ProcessSignal.Kill, child.Signal);
            Assert.False(Directory.Exists($"/proc/{pid}"), "the child is gone, not a zombie");
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await child.StandardOutput!.ReadAsync(new byte[1]));
        });
    }

    [Fact]
    public void A_detached_child_keeps_running_and_is_reaped_when_it_exits()
    {
        Loops.Run(async loop =>
        {
            var child = ChildProcess.Start("sleep", ["1000"], new ChildProcessOptions { KillOnDispose = false });
            int pid = child.Id;
            await child.DisposeAsync();
            Assert.False(child.HasExited);
            Assert.DoesNotContain(") Z ", File.ReadAllText($"/proc/{pid}/stat")); // still running
            using (var handle = Process.GetProcessById(pid)) handle.Kill();
            // The reaper is a thread outside the loop, so there is no event to await: poll /proc with a deadline.
            var deadline = Stopwatch.StartNew();
            while (Directory.Exists($"/proc/{pid}"))
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), $"process {pid} was not reaped");
                await loop.Delay(TimeSpan.FromMilliseconds(5));
            }
        });
    }
}

[CollectionDefinition(nameof(DescriptorCounting), DisableParallelization = true)]
public sealed class DescriptorCounting;

/// <summary>Counts the test process's descriptors, so it runs alone: other tests open sockets and pipes meanwhile.</summary>
[Collection(nameof(DescriptorCounting))]
public class ChildProcessDescriptorTests
{
    [Fact]
    public void A_batch_of_children_leaves_no_descriptor_behind()
    {
        Loops.Run(async loop =>
        {
            await RunBatch(loop, 2); // warm up: the runtime opens what it keeps (and .NET's SIGCHLD pipe on portable)
            var before = ChildDescriptors();
            await RunBatch(loop, 20);
            // Only pipes and pidfds (what a child leaves behind) are compared, and only new ones count: the rest of
            // the process (finalizers of earlier tests, the socket engine) may open and close other descriptors.
            var leaked = ChildDescriptors().Except(before).ToList();
            Assert.True(leaked.Count == 0, $"left open: {string.Join(", ", leaked)}");
        });
    }

    /// <summary>The process's pipe and pidfd descriptors, as "fd -> target".</summary>
    private static HashSet<string> ChildDescriptors()
    {
        var result = new HashSet<string>();
        foreach (var path in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try { target = new FileInfo(path).LinkTarget; }
            catch (IOException) { continue; } // closed while we looked
            if (target is not null && (target.StartsWith("pipe:", StringComparison.Ordinal) || target.Contains("pidfd", StringComparison.Ordinal)))
                result.Add($"{Path.GetFileName(path)} -> {target}");
        }
        return result;
    }

    private static async Task RunBatch(EventLoop loop, int count)
    {
        var tasks = new List<LoopTask>();
        for (int i = 0; i < count; i++)
        {
            int n = i;
            tasks.Add(loop.Spawn(async () =>
            {
                await using var child = ChildProcess.Start("sh", ["-c", "cat; echo done >&2"], ChildProcessTests.Piped);
                var stderr = loop.Spawn(() => ChildProcessTests.ReadAllText(child.StandardError!));
                await child.StandardInput!.WriteAsync(Encoding.ASCII.GetBytes($"child {n}\n"));
                child.StandardInput.ShutdownWrite();
                Assert.Equal($"child {n}\n", await ChildProcessTests.ReadAllText(child.StandardOutput!));
                Assert.Equal("done\n", await stderr);
                Assert.Equal(0, await child.WaitForExitAsync());
            }));
            // And one still running when disposed: killed, reaped, its pidfd closed.
            tasks.Add(loop.Spawn(async () =>
            {
                await using var sleeper = ChildProcess.Start("sleep", ["1000"], ChildProcessTests.Piped);
            }));
        }
        foreach (var task in tasks) await task;
    }
}
