using System.Diagnostics;

namespace Meanwhile.Cli.Tests;

/// <summary>
/// The graceful shutdown of <c>serve</c> with curl downloading a throttled 20 MB file: a signal stops the accepting,
/// the download in flight finishes within the shutdown timeout, and only then does the process exit (the bug: the
/// process was killed 2 s after the signal, by System.CommandLine, cutting the download).
/// </summary>
public sealed class ShutdownTests : IDisposable
{
    private const int FileBytes = 20 * 1000 * 1000;
    private readonly DirectoryInfo _site = Directory.CreateTempSubdirectory("meanwhile-shutdown-");
    private readonly byte[] _file = new byte[FileBytes];

    public ShutdownTests()
    {
        new Random(13).NextBytes(_file);
        File.WriteAllBytes(Path.Combine(_site.FullName, "big.bin"), _file);
    }

    public void Dispose() => _site.Delete(recursive: true);

    [Theory]
    [InlineData(Signals.Term)]
    [InlineData(Signals.Int)]
    public void A_throttled_download_in_flight_at_the_signal_completes_byte_for_byte_and_the_tool_exits_0(int signal)
    {
        // 1 MiB/s: what the socket buffers cannot hold (they take 10 MB and more on loopback) keeps the server sending for
        // seconds after the signal, past the 2 s at which System.CommandLine used to end the process, with room to spare
        // for a loaded machine that sees curl's first bytes late.
        using var serve = ToolProcess.Start("serve", _site.FullName, "--port", "0", "--loops", "1", "--quiet", "--shutdown-timeout", "30s");
        using var curl = Download.Start(new Uri(serve.WaitListening(), "/big.bin"), "1M");
        curl.WaitForFirstBytes();

        var signalled = DateTime.UtcNow;
        serve.Signal(signal);
        var (code, body) = curl.Finish();
        Assert.True(code == 0, $"curl exit {code}: {curl.Errors}");
        Assert.True(body.AsSpan().SequenceEqual(_file), $"{body.Length} bytes received, {FileBytes} sent; not the same");
        Assert.Equal(0, serve.WaitForExit());
        // The server was still sending past the 2 s at which System.CommandLine used to end the process.
        Assert.True(serve.ExitTime - signalled > TimeSpan.FromSeconds(2), $"exited {serve.ExitTime - signalled} after the signal: throttled too little to show anything");
        Assert.Contains("meanwhile: shutting down", serve.Stderr, StringComparison.Ordinal);
        Assert.EndsWith("meanwhile: stopped\n", serve.Stderr.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_download_that_cannot_finish_within_the_default_5_s_is_cut_at_5_s_not_before_and_the_exit_code_says_so()
    {
        // 1 MiB/s: 20 s for the file, far past the timeout.
        using var serve = ToolProcess.Start("serve", _site.FullName, "--port", "0", "--loops", "1", "--quiet");
        using var curl = Download.Start(new Uri(serve.WaitListening(), "/big.bin"), "1M");
        curl.WaitForFirstBytes();

        var signalled = Stopwatch.StartNew();
        serve.Terminate();
        int exit = serve.WaitForExit();
        var stopped = signalled.Elapsed;
        var (code, body) = curl.Finish();

        Assert.True(exit == 1, $"exit {exit}: {serve.Stderr}");
        Assert.True(stopped >= TimeSpan.FromSeconds(4.95), $"cut {stopped} after the signal, before the 5 s timeout");
        Assert.True(stopped < TimeSpan.FromSeconds(15), $"cut {stopped} after the signal, long after the 5 s timeout");
        Assert.Contains("meanwhile: stopped: the 5s shutdown timeout cut 1 connection with a response in flight", serve.Stderr, StringComparison.Ordinal);
        Assert.NotEqual(0, code); // curl saw the cut: 18 (partial file) or 56 (reset)
        Assert.InRange(body.Length, 1, FileBytes - 1);
        Assert.True(body.AsSpan().SequenceEqual(_file.AsSpan(0, body.Length)), "what arrived before the cut is not the file's beginning");
    }

    [Theory]
    [InlineData(Signals.Term, 143)]
    [InlineData(Signals.Int, 130)]
    public void A_second_signal_during_the_shutdown_ends_the_process_at_once(int signal, int expectedExit)
    {
        using var serve = ToolProcess.Start("serve", _site.FullName, "--port", "0", "--loops", "1", "--quiet", "--shutdown-timeout", "60s");
        using var curl = Download.Start(new Uri(serve.WaitListening(), "/big.bin"), "1M");
        curl.WaitForFirstBytes();

        serve.Signal(signal);
        serve.WaitForStderr("shutting down");
        var second = Stopwatch.StartNew();
        serve.Signal(signal);
        Assert.Equal(expectedExit, serve.WaitForExit());
        Assert.True(second.Elapsed < TimeSpan.FromSeconds(10), $"exited {second.Elapsed} after the second signal; the timeout was 60 s");
        Assert.DoesNotContain("stopped", serve.Stderr, StringComparison.Ordinal);
    }

    /// <summary>curl downloading to its stdout, at a limited rate, read by the test as it arrives.</summary>
    private sealed class Download : IDisposable
    {
        private readonly Process _curl;
        private readonly MemoryStream _body = new();
        private readonly Task<string> _errors;

        private Download(Process curl)
        {
            _curl = curl;
            _errors = curl.StandardError.ReadToEndAsync();
        }

        public string Errors => _errors.IsCompleted ? _errors.Result : "";

        public static Download Start(Uri url, string rate)
        {
            var info = new ProcessStartInfo("curl", ["-sS", "--limit-rate", rate, "-m", "120", url.ToString()]) { RedirectStandardOutput = true, RedirectStandardError = true };
            return new Download(Process.Start(info)!);
        }

        /// <summary>Reads until the first bytes arrive: the download is then in flight.</summary>
        public void WaitForFirstBytes()
        {
            var buffer = new byte[64 * 1024];
            var read = _curl.StandardOutput.BaseStream.ReadAsync(buffer).AsTask();
            if (!read.Wait(ToolProcess.Deadline)) throw new TimeoutException("curl received nothing");
            Assert.True(read.Result > 0, $"curl ended at once: {Errors}");
            _body.Write(buffer, 0, read.Result);
        }

        /// <summary>Reads the rest; returns curl's exit code and everything received.</summary>
        public (int ExitCode, byte[] Body) Finish()
        {
            var rest = _curl.StandardOutput.BaseStream.CopyToAsync(_body);
            if (!rest.Wait(ToolProcess.Deadline) || !_curl.WaitForExit(ToolProcess.Deadline)) throw new TimeoutException("curl did not finish");
            _errors.Wait(ToolProcess.Deadline);
            return (_curl.ExitCode, _body.ToArray());
        }

        public void Dispose()
        {
            if (!_curl.HasExited) _curl.Kill();
            _curl.Dispose();
        }
    }
}
