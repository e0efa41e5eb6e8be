namespace Meanwhile.Http.WebSockets.Tests;

/// <summary>The output of a peer that runs to its end.</summary>
internal static class PeerOutput
{
    /// <summary>Waits for a peer that runs to its end; returns its exit code, its stdout lines and its whole transcript.</summary>
    public static (int ExitCode, string Stdout, string Transcript) Of(PeerProcess peer)
    {
        using (peer)
        {
            int code = peer.WaitForExit(TimeSpan.FromSeconds(120));
            var stdout = string.Concat(peer.Transcript.Split('\n').Where(l => l.StartsWith("[out] ", StringComparison.Ordinal)).Select(l => l[6..] + "\n"));
            return (code, stdout, peer.Transcript);
        }
    }
}
