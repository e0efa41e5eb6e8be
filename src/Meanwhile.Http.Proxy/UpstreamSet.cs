namespace Meanwhile.Http.Proxy;

/// <summary>
/// A loop's upstreams and the choice among them: round robin or least outstanding over those not skipped, never the
/// one a retry just left unless it is the only one. When every upstream is skipped the one whose skip ends first is
/// tried anyway: a request is better served by an upstream that may have recovered than refused outright.
/// </summary>
internal sealed class UpstreamSet
{
    private readonly Upstream[] _upstreams;
    private readonly ProxyBalancing _balancing;
    private int _next;

    public UpstreamSet(IReadOnlyList<Uri> uris, ProxyBalancing balancing)
    {
        _upstreams = new Upstream[uris.Count];
        for (int i = 0; i < _upstreams.Length; i++) _upstreams[i] = new Upstream(uris[i], i);
        _balancing = balancing;
    }

    public int Count => _upstreams.Length;

    public ReadOnlySpan<Upstream> All => _upstreams;

    /// <summary>The one upstream when there is only one (every attempt goes there: no clock read, no choice); else null.</summary>
    public Upstream? Single => _upstreams.Length == 1 ? _upstreams[0] : null;

    /// <summary>Picks the upstream for an attempt; <paramref name="avoid"/> is the one the previous attempt failed on.</summary>
    public Upstream Pick(long now, Upstream? avoid)
    {
        var upstreams = _upstreams;
        if (upstreams.Length == 1) return upstreams[0];
        int start = _next;
        Upstream? best = null;
        for (int i = 0; i < upstreams.Length; i++)
        {
            var candidate = upstreams[(start + i) % upstreams.Length];
            if (candidate == avoid || candidate.IsSkipped(now)) continue;
            if (best is null || candidate.Outstanding < best.Outstanding) best = candidate;
            if (_balancing == ProxyBalancing.RoundRobin) break;
        }
        if (best is not null)
        {
            // The turn passes to the one after the pick, so a skipped upstream's share spreads evenly over the others.
            _next = (best.Index + 1) % upstreams.Length;
            return best;
        }
        _next = (start + 1) % upstreams.Length;
        // Everything else is skipped (or was just tried): the soonest back, counting the avoided one last.
        foreach (var candidate in upstreams)
        {
            if (candidate == avoid) continue;
            if (best is null || candidate.SkippedUntil < best.SkippedUntil) best = candidate;
        }
        return best ?? avoid!;
    }

    public void CloseIdle()
    {
        foreach (var upstream in _upstreams) upstream.CloseIdle();
    }
}
