namespace Meanwhile.Http.Server;

/// <summary>
/// Work that must finish on a loop before the loop ends: writers with lines still buffered (the access log). The server
/// runs it after its graceful shutdown, while the loop still serves waits; per thread, so per loop.
/// </summary>
internal static class LoopFlushes
{
    [ThreadStatic]
    private static List<Func<ValueTask>>? s_flushes;

    /// <summary>Registers <paramref name="flush"/> on the current loop's thread.</summary>
    public static void Register(Func<ValueTask> flush) => (s_flushes ??= []).Add(flush);

    /// <summary>Runs (and forgets) what was registered on the current loop; one failure does not stop the others.</summary>
    public static async Task RunAsync()
    {
        if (s_flushes is not { Count: > 0 } flushes) return;
        s_flushes = null;
        foreach (var flush in flushes)
        {
            try { await flush(); }
            catch (Exception) { /* a flush reports its own failures; the shutdown goes on */ }
        }
    }
}
