using System.Runtime.ExceptionServices;

namespace Meanwhile.Http.WebSockets.Tests;

/// <summary>Runs a test body on a fresh loop on its own thread, failing (not hanging) when it does not finish.</summary>
internal static class Loops
{
    public static void Run(Func<Task> main, EventLoopOptions? options = null, int limitSeconds = 60)
    {
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var loop = new EventLoop(options);
                loop.RunUntilComplete(main);
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        { IsBackground = true, Name = "test loop" };
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(limitSeconds))) throw new TimeoutException($"The loop did not finish within {limitSeconds} s.");
        failure?.Throw();
    }

    /// <summary>The exception <paramref name="action"/> throws, of type <typeparamref name="T"/>; fails when it throws none.</summary>
    public static async Task<T> Throws<T>(Func<Task> action) where T : Exception
    {
        try
        {
            await action();
        }
        catch (T e)
        {
            return e;
        }
        throw new Xunit.Sdk.XunitException($"Expected {typeof(T).Name}; nothing was thrown.");
    }
}
