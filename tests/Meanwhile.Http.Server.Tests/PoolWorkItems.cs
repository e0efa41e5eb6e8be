namespace Meanwhile.Http.Server.Tests;

/// <summary>Counts the process's thread-pool work items across exchanges (run in a collection no other test runs beside).</summary>
internal static class PoolWorkItems
{
    /// <summary>Runs <paramref name="exchange"/> 20 times to warm up, then <paramref name="count"/> times; the work items of the latter.</summary>
    public static long Count(Action exchange, int count)
    {
        for (int i = 0; i < 20; i++) exchange();
        long before = ThreadPool.CompletedWorkItemCount + ThreadPool.PendingWorkItemCount;
        for (int i = 0; i < count; i++) exchange();
        return ThreadPool.CompletedWorkItemCount + ThreadPool.PendingWorkItemCount - before;
    }
}
