using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>Ties a primitive to the loop that first uses it, and checks each later call comes from that loop's thread.</summary>
internal static class LoopAffinity
{
    /// <summary>The running task (null in a loop callback); throws off the loop thread or on another loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LoopTask? Enter(ref EventLoop? loop) => (loop ??= EventLoop.Current).CheckThreadGetTask();

    /// <summary><see cref="Enter"/> for an operation that needs no task (a release, a try).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(ref EventLoop? loop) => (loop ??= EventLoop.Current).CheckThreadInline();
}
