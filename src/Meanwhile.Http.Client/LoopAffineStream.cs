namespace Meanwhile.Http.Client;

/// <summary>
/// The socket as a <see cref="Stream"/> for <see cref="System.Net.Security.SslStream"/>, with every call carried to the
/// loop thread: SslStream resumes its internal awaits without a context (on the thread pool), yet a Meanwhile stream
/// must only be touched from its loop.
/// </summary>
/// <remarks>Calls made on the loop thread (the usual case once a session is up) go straight through, without a hop.</remarks>
internal sealed class LoopAffineStream(SocketStream socket) : Stream
{
    private readonly Stream inner = socket.AsStream();
    private readonly EventLoop loop = socket.Loop;

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        loop.IsLoopThread ? inner.ReadAsync(buffer, cancellationToken) : new(OnLoop(() => inner.ReadAsync(buffer, cancellationToken)));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        loop.IsLoopThread ? inner.WriteAsync(buffer, cancellationToken) : new(OnLoop(async () =>
        {
            await inner.WriteAsync(buffer, cancellationToken);
            return true;
        }));

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Synchronous reads would block the event loop.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Synchronous writes would block the event loop.");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private Task<T> OnLoop<T>(Func<ValueTask<T>> operation)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.Post(async () =>
        {
            try
            {
                done.SetResult(await operation());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        return done.Task;
    }
}
