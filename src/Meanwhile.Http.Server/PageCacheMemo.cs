namespace Meanwhile.Http.Server;

/// <summary>
/// Which files this loop thread found wholly in the page cache within the last <see cref="Window"/> of its loop's clock,
/// so that the requests for a hot file in that window skip <c>cachestat</c> (1.3-1.9 µs each on our benchmark VM, about
/// 5 % of a 100 KiB response). A file is known by device, inode, size and modification time: a file replaced, grown,
/// shrunk or rewritten is a new one and is checked again.
/// </summary>
/// <remarks>
/// The bound this puts on the never-stall guarantee: a file found cached is trusted for <see cref="Window"/> (1 ms);
/// pages of it the kernel evicts within that millisecond are read by the loop's <c>sendfile</c> from the disk. A check
/// was never atomic with the <c>sendfile</c> after it (a thread preempted between the two waits a scheduler slice,
/// milliseconds too); the window is of the same order. A millisecond still holds about 30 requests of a loop serving
/// 100 KiB files at full speed, so the check runs once per ~30 of them instead of for each.
/// </remarks>
internal static class PageCacheMemo
{
    /// <summary>How long an answer "all cached" is trusted, on the loop's clock.</summary>
    internal static readonly TimeSpan Window = TimeSpan.FromMilliseconds(1);

    private const int Slots = 16; // direct-mapped by inode: a handful of hot files at a time

    private struct Slot
    {
        public long Inode, Device, Size, ModifiedSeconds, CheckedAt;
        public int ModifiedNanoseconds;
        public bool Used;
    }

    [ThreadStatic] private static Slot[]? s_slots;
    [ThreadStatic] private static TimeProvider? s_clock; // the answers are kept for one clock: another loop on this thread starts afresh
    [ThreadStatic] private static long s_windowTicks;

    /// <summary>Whether <paramref name="facts"/>' file was found wholly cached within the window before <paramref name="now"/>.</summary>
    public static bool IsWhollyCached(in FileFacts facts, TimeProvider clock, long now)
    {
        if (s_slots is not { } slots || !ReferenceEquals(s_clock, clock)) return false;
        ref var slot = ref slots[(int)((ulong)facts.Inode % Slots)];
        return slot.Used && now - slot.CheckedAt < s_windowTicks && now >= slot.CheckedAt && slot.Inode == facts.Inode
            && slot.Device == facts.Device && slot.Size == facts.Size && slot.ModifiedSeconds == facts.ModifiedSeconds
            && slot.ModifiedNanoseconds == facts.ModifiedNanoseconds;
    }

    /// <summary>Notes that <c>cachestat</c> just found every page of <paramref name="facts"/>' file (all of it) cached.</summary>
    public static void NoteWhollyCached(in FileFacts facts, TimeProvider clock, long now)
    {
        if (s_slots is null || !ReferenceEquals(s_clock, clock))
        {
            s_slots = new Slot[Slots];
            s_clock = clock;
            s_windowTicks = (long)(Window.TotalSeconds * clock.TimestampFrequency);
        }
        ref var slot = ref s_slots[(int)((ulong)facts.Inode % Slots)];
        slot.Inode = facts.Inode;
        slot.Device = facts.Device;
        slot.Size = facts.Size;
        slot.ModifiedSeconds = facts.ModifiedSeconds;
        slot.ModifiedNanoseconds = facts.ModifiedNanoseconds;
        slot.CheckedAt = now;
        slot.Used = true;
    }
}
