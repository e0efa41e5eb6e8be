namespace Meanwhile.Tests;

/// <summary>
/// A lock's and a semaphore's wait is an awaitable of its own (<see cref="PermitAwaitable"/>,
/// <see cref="LockHolderAwaitable"/>): what it converts to, and the same rules as the <see cref="ValueTask"/> it stands for.
/// </summary>
public class PermitAwaitableTests
{
    [Fact]
    public void A_wait_converts_to_a_ValueTask_or_a_Task_that_ends_when_the_permit_is_passed()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var gate = new LoopLock();
            var free = gate.AcquireAsync();
            Assert.True(free.IsCompletedSuccessfully);
            Assert.True(free.AsValueTask().IsCompletedSuccessfully);
            await free;

            var log = new List<string>();
            var asValueTask = loop.Spawn(async () =>
            {
                ValueTask wait = gate.AcquireAsync(); // implicit: stored as the ValueTask it stands for
                Assert.False(wait.IsCompleted);
                await wait;
                log.Add("value task");
                gate.Release();
            });
            var asTask = loop.Spawn(async () =>
            {
                Task wait = gate.AcquireAsync().AsTask();
                await wait;
                await wait; // a Task may be awaited again
                log.Add("task");
                gate.Release();
            });
            await loop.Yield();
            Assert.Equal(2, loop.GetTasks().Count(t => t.WaitingOn.Kind == WaitKind.Lock));
            gate.Release();
            await asValueTask;
            await asTask;
            Assert.Equal(["value task", "task"], log); // first come, first served either way
            Assert.False(gate.IsLocked);
        });
    }

    [Fact]
    public void LockAsync_converted_to_a_ValueTask_gives_a_holder_that_releases_the_lock()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var gate = new LoopLock();
            ValueTask<LoopLockHolder> free = gate.LockAsync();
            Assert.True(free.IsCompletedSuccessfully);
            using (await free) Assert.True(gate.IsLocked);
            Assert.False(gate.IsLocked);

            var held = await gate.LockAsync();
            var waiter = loop.Spawn(async () =>
            {
                var pending = gate.LockAsync();
                Assert.False(pending.IsCompleted);
                ValueTask<LoopLockHolder> converted = pending;
                using (await converted) Assert.True(gate.IsLocked);
            });
            await loop.Yield();
            held.Dispose(); // to the waiter
            await waiter;
            Assert.False(gate.IsLocked);
            Task<LoopLockHolder> asTask = gate.LockAsync().AsTask();
            (await asTask).Dispose();
            Assert.False(gate.IsLocked);
        });
    }

    [Fact]
    public void A_cancelled_wait_reports_so_and_throws_when_awaited_and_a_second_await_throws()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var semaphore = new LoopSemaphore(0, "slots");
            using var cancel = new CancellationTokenSource();
            var wait = semaphore.AcquireAsync(cancel.Token);
            Assert.False(wait.IsCompleted);
            cancel.Cancel(); // on the loop's thread: the wait ends at once
            Assert.True(wait.IsCompleted);
            Assert.False(wait.IsCompletedSuccessfully);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait);
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await wait);

            var locked = new LoopLock();
            await locked.AcquireAsync();
            var lockWait = locked.LockAsync(cancel.Token); // the token fired already
            Assert.True(lockWait.IsCompleted);
            Assert.False(lockWait.IsCompletedSuccessfully);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await lockWait);
            Assert.Equal(0, semaphore.CurrentCount);
            Assert.True(locked.IsLocked); // still the main task's
        });
    }
}
