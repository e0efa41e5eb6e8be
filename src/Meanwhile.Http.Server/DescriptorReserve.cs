using Microsoft.Win32.SafeHandles;

namespace Meanwhile.Http.Server;

/// <summary>
/// Descriptors a loop's accept loop holds back for the rest of the process, so that accepting connections can never
/// leave it with none: .NET needs descriptors to start a thread (the portable reactor's socket completions run on
/// thread-pool threads) and, without them, fails fast with "Out of memory.".
/// </summary>
/// <remarks>
/// <para>The loop holds <see cref="Size"/> descriptors (of /dev/null) from the start and accepts freely. The first
/// EMFILE gives them back (<see cref="Release"/>). From then on the loop is in tight mode: before each accept it checks
/// that <see cref="Size"/> more descriptors could be opened, and waits while they could not; once it can take its reserve
/// back with as many to spare, it does, and accepts freely again. The checks open and close descriptors, so they cost
/// a few microseconds per accept, paid only by a process that has run out.</para>
/// <para>Loop thread only. On Windows there is no descriptor limit of this kind and the reserve does nothing.</para>
/// </remarks>
internal sealed class DescriptorReserve : IDisposable
{
    public const int Size = 16;

    private readonly SafeFileHandle?[] _held = new SafeFileHandle?[Size];
    private SafeFileHandle?[]? _probe;

    public DescriptorReserve()
    {
        if (OperatingSystem.IsWindows()) return;
        if (Open(_held, Size) < Size) Release(); // started out of descriptors: tight from the start
    }

    /// <summary>Whether the loop is short of descriptors (an accept failed with EMFILE and the reserve is not back).</summary>
    public bool IsTight { get; private set; }

    /// <summary>Out of descriptors: gives the reserve back to the process and enters tight mode.</summary>
    public void Release()
    {
        IsTight = true;
        Close(_held);
    }

    /// <summary>Whether to accept now: always when not tight; when tight, only with <see cref="Size"/> descriptors to spare.</summary>
    public bool HasRoomToAccept()
    {
        if (!IsTight) return true;
        var probe = _probe ??= new SafeFileHandle?[2 * Size];
        int opened = Open(probe, probe.Length);
        if (opened == probe.Length)
        {
            // Room for the reserve and as much again: hold it, and accept freely.
            Array.Copy(probe, _held, Size);
            Array.Clear(probe, 0, Size);
            IsTight = false;
        }
        Close(probe);
        return opened >= Size;
    }

    public void Dispose() => Close(_held);

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
