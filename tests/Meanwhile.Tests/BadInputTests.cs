namespace Meanwhile.Tests;

public class BadInputTests
{
    [Fact]
    public void Loop_methods_called_from_a_foreign_thread_throw_and_say_so()
    {
        Loops.Run(async loop =>
        {
            var errors = await Task.Run(() => new Exception?[]
            {
                Record(() => loop.Spawn(() => Task.CompletedTask)),
                Record(() => loop.CallSoon(() => { })),
                Record(() => loop.CallLater(TimeSpan.Zero, () => { })),
                Record(() => loop.Delay(TimeSpan.FromSeconds(1))),
                Record(() => loop.Yield()),
                Record(() => loop.Stop()),
                Record(() => loop.GetTasks()),
            });
            Assert.All(errors, e =>
            {
                var error = Assert.IsType<InvalidOperationException>(e);
                Assert.Contains("from other threads use Post", error.Message);
            });
            var posted = new TaskCompletionSource();
            await Task.Run(() => loop.Post(posted.SetResult)); // Post is the way in
            await posted.Task;
        });
    }

    [Fact]
    public void Starting_a_loop_on_a_thread_that_runs_one_throws()
    {
        Loops.Run(loop =>
        {
            var error = Assert.Throws<InvalidOperationException>(() => EventLoop.Run(() => Task.CompletedTask));
            Assert.Contains("already running on this thread", error.Message);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void Negative_delays_throw()
    {
        Loops.Run(loop =>
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => loop.Delay(TimeSpan.FromMilliseconds(-1)));
            Assert.Throws<ArgumentOutOfRangeException>(() => loop.CallLater(TimeSpan.FromTicks(-1), () => { }));
            return Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => loop.WithTimeout(TimeSpan.FromSeconds(-1), _ => Task.CompletedTask));
        });
    }

    [Fact]
    public void A_disposed_loop_refuses_work_clearly()
    {
        var loop = new EventLoop();
        loop.Dispose();
        Assert.Throws<ObjectDisposedException>(() => loop.Post(() => { }));
        Assert.Throws<ObjectDisposedException>(() => { loop.Spawn(() => Task.CompletedTask); });
        Assert.Throws<ObjectDisposedException>(() => loop.RunUntilComplete(() => Task.CompletedTask));
        loop.Dispose(); // twice is fine
    }

    [Fact]
    public void There_is_no_current_loop_outside_one()
    {
        Assert.Null(EventLoop.CurrentOrNull);
        var error = Assert.Throws<InvalidOperationException>(() => EventLoop.Current);
        Assert.Contains("No Meanwhile event loop", error.Message);
    }

    [Fact]
    public void A_loop_can_be_run_again_after_a_stop()
    {
        using var loop = new EventLoop();
        loop.RunUntilComplete(async () => { await loop.Yield(); loop.Stop(); await loop.Delay(TimeSpan.FromHours(1)); });
        Assert.Equal(3, loop.RunUntilComplete(async () => { await loop.Yield(); return 3; }));
    }

    private static Exception? Record(Action action)
    {
        try { action(); return null; }
        catch (Exception e) { return e; }
    }
}
