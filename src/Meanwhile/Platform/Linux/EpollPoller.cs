using static Meanwhile.LinuxNative;

namespace Meanwhile;

/// <summary>
/// The Linux poller: one epoll instance, edge-triggered registrations, and an eventfd that other threads
/// write to wake the loop. The loop thread blocks in epoll_wait with its next timer deadline as timeout, so an
/// idle loop burns no CPU.
/// </summary>
/// <remarks>
/// Each registration is added with EPOLLIN | EPOLLRDHUP | EPOLLET, and EPOLLOUT joins (one EPOLL_CTL_MOD) the first
/// time a writer has to wait: with edge triggering there is nothing to re-arm, so a read or write that hits EAGAIN simply
/// waits for the next edge (mio does the same). Most sockets never fill their send buffer; watching their writability
/// from the start cost every accepted connection one more epoll_wait return (the writable state the ADD reports at once).
/// The MOD reports a descriptor that is writable already, as the ADD does, so no edge is lost (nginx adds its write
/// events the same way). The epoll data carries a slot index and a
/// generation, so an event that arrives for a slot freed and reused in the same batch is recognised as stale and dropped.
/// </remarks>
internal sealed unsafe class EpollPoller : Poller
{
    private const ulong WakeToken = ulong.MaxValue;
    private const int MaxEvents = 256;

    private readonly int _epoll;
    private readonly int _wakeFd;
    private readonly byte[] _events;
    private readonly List<IoRegistration?> _slots = new();
    private readonly List<uint> _generations = new();
    private readonly Stack<int> _freeSlots = new();
    private int _disposed;

    private readonly EventLoop _loop;

    public EpollPoller(EventLoop loop)
    {
        _loop = loop;
        // O_CLOEXEC-style flags so child processes never inherit the loop's descriptors.
        _epoll = epoll_create1(EPOLL_CLOEXEC);
        if (_epoll < 0) throw new SystemCallException("epoll_create1", LastErrno);
        _wakeFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (_wakeFd < 0)
        {
            int errno = LastErrno;
            close(_epoll);
            throw new SystemCallException("eventfd", errno);
        }
        byte* ev = stackalloc byte[16];
        WriteEvent(ev, EPOLLIN | EPOLLET, WakeToken);
        if (epoll_ctl(_epoll, EPOLL_CTL_ADD, _wakeFd, ev) < 0)
        {
            int errno = LastErrno;
            close(_wakeFd);
            close(_epoll);
            throw new SystemCallException("epoll_ctl", errno, $"eventfd {_wakeFd}");
        }
        _events = GC.AllocateUninitializedArray<byte>(MaxEvents * EpollEventSize, pinned: true);
    }

    public override bool SupportsDescriptors => true;

    public override int? RegistrationCount => _slots.Count - _freeSlots.Count;

    public override bool HasSources => _slots.Count != _freeSlots.Count;

    public override string? DescribeDescriptor(int descriptor) => DescriptorNames.Describe(descriptor);

    public override void Poll(int timeoutMilliseconds)
    {
        int count;
        fixed (byte* events = _events)
        {
            count = epoll_wait(_epoll, events, MaxEvents, timeoutMilliseconds);
        }
        if (count < 0)
        {
            int errno = LastErrno;
            if (errno == Errno.EINTR) return; // a signal: the loop simply goes round again
            throw new SystemCallException("epoll_wait", errno);
        }
        int size = EpollEventSize, offset = EpollDataOffset;
        for (int i = 0; i < count; i++)
        {
            int at = i * size;
            uint flags = BitConverter.ToUInt32(_events, at);
            ulong token = BitConverter.ToUInt64(_events, at + offset);
            if (token == WakeToken)
            {
                DrainWakeFd();
                continue;
            }
            int slot = (int)(uint)token;
            uint generation = (uint)(token >> 32);
            if (slot >= _slots.Count || _generations[slot] != generation || _slots[slot] is not { } registration)
                continue; // deregistered since the kernel queued the event
            // Errors and hang-ups wake both directions: the next read or write reports what happened.
            bool failed = (flags & (EPOLLERR | EPOLLHUP)) != 0;
            registration.OnReady(
                readable: failed || (flags & (EPOLLIN | EPOLLRDHUP | EPOLLPRI)) != 0,
                writable: failed || (flags & EPOLLOUT) != 0,
                readClosed: failed || (flags & EPOLLRDHUP) != 0);
        }
    }

    private void DrainWakeFd()
    {
        ulong value;
        read(_wakeFd, (byte*)&value, sizeof(ulong)); // EAGAIN just means another drain got it first
    }

    public override void Wake()
    {
        if (Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(nameof(EpollPoller));
        ulong one = 1;
        if (write(_wakeFd, (byte*)&one, sizeof(ulong)) < 0)
        {
            int errno = LastErrno;
            // EAGAIN: the counter is full, so the loop is certainly going to wake.
            if (errno != Errno.EAGAIN && errno != Errno.EINTR) throw new SystemCallException("write", errno, $"eventfd {_wakeFd}");
        }
    }

    public override IoRegistration Register(int descriptor) => Register(descriptor, _loop);

    private IoRegistration Register(int descriptor, EventLoop loop)
    {
        int slot;
        if (_freeSlots.Count > 0) slot = _freeSlots.Pop();
        else
        {
            slot = _slots.Count;
            _slots.Add(null);
            _generations.Add(0);
        }
        uint generation = ++CollectionsMarshalHelper.At(_generations, slot);
        var registration = new IoRegistration(loop, descriptor) { Token = ((ulong)generation << 32) | (uint)slot, WritableOnDemand = true };
        byte* ev = stackalloc byte[16];
        WriteEvent(ev, EPOLLIN | EPOLLRDHUP | EPOLLET, registration.Token);
        if (epoll_ctl(_epoll, EPOLL_CTL_ADD, descriptor, ev) < 0)
        {
            int errno = LastErrno;
            _freeSlots.Push(slot);
            throw new SystemCallException("epoll_ctl", errno, $"fd {descriptor}");
        }
        _slots[slot] = registration;
        return registration;
    }

    internal override void WatchWritable(IoRegistration registration)
    {
        byte* ev = stackalloc byte[16];
        WriteEvent(ev, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, registration.Token);
        if (epoll_ctl(_epoll, EPOLL_CTL_MOD, registration.Descriptor, ev) < 0)
            throw new SystemCallException("epoll_ctl", LastErrno, $"fd {registration.Descriptor}");
    }

    internal override void Deregister(IoRegistration registration, bool descriptorClosing)
    {
        int slot = (int)(uint)registration.Token;
        if (slot >= _slots.Count || !ReferenceEquals(_slots[slot], registration)) return;
        _slots[slot] = null;
        _freeSlots.Push(slot);
        // Closing the descriptor removes it from the epoll set, unless another descriptor shares its file (a dup, a
        // child between fork and exec): then its late events carry this slot's old generation and are dropped above.
        if (descriptorClosing) return;
        byte* ev = stackalloc byte[16];
        // EBADF/ENOENT: the descriptor was closed first, which already removed it from the epoll set.
        epoll_ctl(_epoll, EPOLL_CTL_DEL, registration.Descriptor, ev);
    }

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        close(_wakeFd);
        close(_epoll);
    }
}

internal static class CollectionsMarshalHelper
{
    public static ref T At<T>(List<T> list, int index) => ref System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list)[index];
}
