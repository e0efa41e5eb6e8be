namespace Meanwhile;

/// <summary>
/// The path between two hosts (or a host and itself): its options, its faults (partition, hold) and, per direction, when
/// its wire is free again (bandwidth).
/// </summary>
internal sealed class SimulatedLink(LinkOptions options)
{
    private long _freeAtForward;  // from the lower host id to the higher
    private long _freeAtBackward;
    private List<NetworkEvent>? _held;

    public LinkOptions Options { get; set; } = options;

    public bool Partitioned { get; set; }

    public bool Held => _held is not null;

    /// <summary>When a packet of <paramref name="length"/> bytes sent at <paramref name="now"/> has left the sender (after the ones before it).</summary>
    public long Departure(bool forward, long now, int length, long ticksPerSecond)
    {
        long bandwidth = Options.BandwidthBytesPerSecond;
        if (bandwidth == 0) return now;
        ref long freeAt = ref forward ? ref _freeAtForward : ref _freeAtBackward;
        long start = Math.Max(now, freeAt);
        freeAt = start + (long)Math.Ceiling((double)length * ticksPerSecond / bandwidth);
        return freeAt;
    }

    public void Hold() => _held ??= new();

    /// <summary>Keeps an arriving packet until <see cref="Release"/>.</summary>
    public void Park(NetworkEvent arrival) => _held!.Add(arrival);

    /// <summary>Ends the hold; returns the packets kept, in the order they would have arrived.</summary>
    public List<NetworkEvent> Release()
    {
        var held = _held ?? new();
        _held = null;
        return held;
    }
}
