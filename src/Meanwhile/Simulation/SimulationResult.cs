namespace Meanwhile;

/// <summary>How a <see cref="Simulation.Run"/> went.</summary>
public sealed class SimulationResult
{
    internal SimulationResult(long seed, ulong traceHash, long events, TimeSpan elapsed, bool clientCompleted, IReadOnlyList<LoopError> errors)
    {
        Seed = seed;
        TraceHash = traceHash;
        Events = events;
        Elapsed = elapsed;
        ClientCompleted = clientCompleted;
        Errors = errors;
    }

    /// <summary>The seed the run was made from.</summary>
    public long Seed { get; }

    /// <summary>The hash of every event that crossed a host boundary, with its virtual time: the same seed gives the same hash.</summary>
    public ulong TraceHash { get; }

    /// <summary><see cref="TraceHash"/> as 16 hexadecimal digits.</summary>
    public string Trace => TraceHash.ToString("x16");

    /// <summary>How many events were traced.</summary>
    public long Events { get; }

    /// <summary>Virtual time from the start to the end of the run.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>True if the client finished; false if the deadline passed first.</summary>
    public bool ClientCompleted { get; }

    /// <summary>Errors the loop reported that no task observed (a host task that failed, one given up at shutdown).</summary>
    public IReadOnlyList<LoopError> Errors { get; }

    /// <inheritdoc />
    public override string ToString() =>
        $"seed {Seed}: trace {Trace}, {Events} events, {Elapsed.TotalSeconds:0.######} s virtual, client {(ClientCompleted ? "completed" : "stopped at the deadline")}";
}
