using Microsoft.Win32.SafeHandles;

namespace Meanwhile.Http.Server;

/// <summary>
/// Descriptors the process's accept loops hold back for the rest of the process, so that accepting connections can
/// never leave it with none: .NET needs descriptors to start a thread (the portable reactor's socket completions run on
/// thread-pool threads) and, without them, fails fast with "Out of memory.".
/// </summary>
/// <remarks>
/// <para>One reserve of <see cref="Size"/> descriptors (of /dev/null) for the whole process, held while any server loop
/// runs. Loops accept freely until an accept fails with EMFILE: that loop gives the reserve back (<see cref="Release"/>)
/// and the process is in tight mode. In tight mode a loop accepts only while <see cref="Size"/> more descriptors could be
/// opened, checked before each accept, and waits while they could not; once the reserve can be taken back with as many to
/// spare, it is, and every loop accepts freely again. The checks open and close descriptors, so they cost a few
/// microseconds per accept, paid only by a process that has run out.</para>
/// <para>Thread-safe (loops run on their own threads). On Windows there is no descriptor limit of this kind and the
/// reserve does nothing.</para>
/// </remarks>
internal static class DescriptorReserve
{
    public const int Size = 16;

    private static readonly Lock Gate = new();
    private static readonly SafeFileHandle?[] Held = new SafeFileHandle?[Size];
    private static int s_users;
    private static volatile bool s_tight;

    /// <summary>Whether the process is short of descriptors (an accept failed with EMFILE and the reserve is not back).</summary>
    public static bool IsTight => s_tight;

    /// <summary>A loop starts accepting: the first one takes the reserve.</summary>
    public static void Acquire()
    {
        if (OperatingSystem.IsWindows()) return;
        lock (Gate)
        {
            if (s_users++ > 0) return;
            s_tight = false;
            if (Open(Held, Size) < Size) Release(); // started out of descriptors: tight from the start
        }
    }

    /// <summary>A loop stops accepting: the last one closes the reserve.</summary>
    public static void Return()
    {
        if (OperatingSystem.IsWindows()) return;
        lock (Gate)
        {
            if (--s_users == 0) Close(Held);
        }
    }

    /// <summary>Out of descriptors: gives the reserve back to the process and enters tight mode.</summary>
    public static void Release()
    {
        lock (Gate)
        {
            s_tight = true;
            Close(Held);
        }
    }

    /// <summary>Whether to accept now: always when not tight; when tight, only with <see cref="Size"/> descriptors to spare.</summary>
    public static bool HasRoomToAccept()
    {
        if (!s_tight) return true;
        var probe = new SafeFileHandle?[2 * Size];
        int opened = Open(probe, probe.Length);
        if (opened == probe.Length)
        {
            lock (Gate)
            {
                if (s_tight && s_users > 0)
                {
                    // Room for the reserve and as much again: hold it, and accept freely.
                    Array.Copy(probe, Held, Size);
                    Array.Clear(probe, 0, Size);
                    s_tight = false;
                }
            }
        }
        Close(probe);
        return opened >= Size;
    }

    private static int Open(SafeFileHandle?[] handles, int count)
    {
        for (int i = 0; i < count; i++)
        {
            try
            {
                handles[i] = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            }
            catch (IOException)
            {
                return i; // EMFILE (or ENFILE): this is how many there was room for
            }
        }
        return count;
    }

    private static void Close(SafeFileHandle?[] handles)
    {
        for (int i = 0; i < handles.Length; i++)
        {
            handles[i]?.Dispose();
            handles[i] = null;
        }
    }
}
