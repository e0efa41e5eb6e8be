namespace Meanwhile.Http.Proxy.Tests;

/// <summary>The choice among upstreams, on its own: round robin, least outstanding, skipping, retries elsewhere.</summary>
public sealed class UpstreamSetTests
{
    private static readonly Uri[] Three = [new("http://127.0.0.1:1"), new("http://127.0.0.1:2"), new("http://127.0.0.1:3")];

    [Fact]
    public void Round_robin_takes_each_upstream_in_turn_and_passes_over_a_skipped_one()
    {
        var set = new UpstreamSet(Three, ProxyBalancing.RoundRobin);
        Assert.Equal([1, 2, 3, 1], Enumerable.Range(0, 4).Select(_ => set.Pick(now: 0, avoid: null).Port));
        set.All[1].Failed(maxFailures: 1, until: 100);
        Assert.Equal([3, 1, 3, 1], Enumerable.Range(0, 4).Select(_ => set.Pick(now: 50, avoid: null).Port));
        Assert.Equal(2, set.Pick(now: 100, avoid: null).Port); // the skip is over
    }

    [Fact]
    public void Least_outstanding_takes_the_upstream_with_the_fewest_requests_in_flight()
    {
        var set = new UpstreamSet(Three, ProxyBalancing.LeastOutstanding);
        set.All[0].Outstanding = 4;
        set.All[1].Outstanding = 1;
        set.All[2].Outstanding = 2;
        Assert.Equal(2, set.Pick(0, null).Port);
        Assert.Equal(3, set.Pick(0, avoid: set.All[1]).Port);
    }

    [Fact]
    public void When_every_upstream_is_skipped_the_one_back_soonest_is_tried_rather_than_none()
    {
        var set = new UpstreamSet(Three, ProxyBalancing.RoundRobin);
        set.All[0].Failed(1, until: 300);
        set.All[1].Failed(1, until: 200);
        set.All[2].Failed(1, until: 400);
        Assert.Equal(2, set.Pick(now: 10, avoid: null).Port);
        Assert.Equal(1, set.Pick(now: 10, avoid: set.All[1]).Port);
    }
}
