namespace Meanwhile;

/// <summary>The client of a <see cref="Simulation"/> failed: the message gives the seed and the command that replays the run.</summary>
public sealed class SimulationFailedException : Exception
{
    /// <summary>Creates the exception for a run of <paramref name="seed"/>.</summary>
    /// <param name="seed">The run's seed.</param>
    /// <param name="replay">The command that replays it.</param>
    /// <param name="inner">What the client threw.</param>
    public SimulationFailedException(long seed, string replay, Exception inner)
        : base($"The simulation failed with seed {seed}: {inner.GetType().Name}: {inner.Message}{Environment.NewLine}Replay it with: {replay}", inner)
    {
        Seed = seed;
        Replay = replay;
    }

    /// <summary>The seed of the failed run.</summary>
    public long Seed { get; }

    /// <summary>The one command that runs it again.</summary>
    public string Replay { get; }
}
