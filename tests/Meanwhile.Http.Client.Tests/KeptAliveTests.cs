using System.Diagnostics;

namespace Meanwhile.Http.Client.Tests;

/// <summary>
/// The fast path (a request without a body on an idle kept-alive connection) keeps every guarantee of the general
/// one: cancellation ends it with the right error, is never mistaken for a stale connection (no retry), closes the
/// connection, and leaves the client usable. Against Node's http module; the timeouts are <see cref="TimeoutTests"/>'.
/// </summary>
public sealed class KeptAliveTests(NodeFixture node) : IClassFixture<NodeFixture>
{
    [Fact]
    public void Cancellation_on_a_kept_alive_connection_ends_the_request_and_the_client_goes_on() => Loops.WithClient(async client =>
    {
        Assert.Equal("node GET /x", await client.GetStringAsync(node.Uri("/x")));
        using var cancel = new CancellationTokenSource();
        var request = client.GetAsync(node.Uri("/delay?ms=20000"), cancel.Token).AsTask();
        cancel.CancelAfter(100);
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        Assert.Equal(cancel.Token, error.CancellationToken);
        Assert.Equal(0, client.OpenConnections(node.Uri("/")));
        Assert.Equal("node GET /y", await client.GetStringAsync(node.Uri("/y")));
    });

    [Fact]
    public void A_body_read_cancelled_by_its_own_token_closes_the_connection() => Loops.WithClient(async client =>
    {
        Assert.Equal("node GET /x", await client.GetStringAsync(node.Uri("/x")));
        using var response = await client.GetAsync(node.Uri("/slow-body?ms=20000"));
        using var cancel = new CancellationTokenSource(100);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => response.ReadAsBytesAsync(cancel.Token));
        response.Dispose();
        Assert.Equal(0, client.OpenConnections(node.Uri("/")));
        Assert.Equal("node GET /y", await client.GetStringAsync(node.Uri("/y")));
    });

    [Fact]
    public void Cancelling_the_task_that_waits_for_a_request_sent_with_others_ends_it() => Loops.WithClient(async client =>
    {
        // With another request out, a kept-alive request goes out at the loop's next turn, with the others of its
        // turn; its read must still be the waiting task's own wait, which cancelling the task ends.
        await Task.WhenAll(client.GetStringAsync(node.Uri("/a")), client.GetStringAsync(node.Uri("/b")));
        var loop = EventLoop.Current;
        using var stopOther = new CancellationTokenSource();
        var other = client.GetAsync(node.Uri("/delay?ms=20000"), stopOther.Token).AsTask();
        var sending = new TaskCompletionSource();
        var clock = Stopwatch.StartNew();
        var waiting = loop.Spawn(async () =>
        {
            var pending = client.GetAsync(node.Uri("/delay?ms=20000"));
            sending.SetResult();
            using var response = await pending;
        });
        await sending.Task;
        waiting.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        stopOther.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => other);
        Assert.Equal("node GET /c", await client.GetStringAsync(node.Uri("/c")));
    });

    [Fact]
    public void Requests_can_be_combined_as_tasks() => Loops.WithClient(async client =>
    {
        // More requests than connections: each frees its connection for the next as soon as it has its body.
        async Task<string> Fetch(string path)
        {
            using var response = await client.GetAsync(node.Uri(path)).AsTask();
            return await response.ReadAsStringAsync();
        }

        var first = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Fetch($"/n{i}")));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"node GET /n{i}"), first);

        // And again on the connections those left idle: the fast path.
        var again = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Fetch($"/m{i}")));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"node GET /m{i}"), again);
        Assert.InRange(client.OpenConnections(node.Uri("/")), 1, 6);
    });
}
