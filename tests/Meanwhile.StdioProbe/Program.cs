// A tiny program for the standard-stream tests: it copies its STDIN to STDOUT upper-cased through Meanwhile's
// standard streams, and reports on STDERR what each stream was. Modes:
//   upper              copy, then dispose the streams (flags restored by dispose)
//   upper-no-dispose   copy, leave the streams open (flags restored at process exit)
//   flags              print "stdin-nonblock=B stdout-nonblock=B" for fds 0 and 1 and touch nothing
using System.Runtime.InteropServices;
using System.Text;
using Meanwhile;

string mode = args.Length > 0 ? args[0] : "upper";
if (mode == "flags")
{
    Console.Out.Write($"stdin-nonblock={NonBlocking(0)} stdout-nonblock={NonBlocking(1)}\n");
    return 0;
}

EventLoop.Run(async () =>
{
    var input = StandardStreams.OpenInput();
    var output = StandardStreams.OpenOutput();
    var error = StandardStreams.OpenError();
    await error.WriteAsync(Encoding.ASCII.GetBytes($"{input.Description}; {output.Description}; stdin-nonblock-while-open={NonBlocking(0)}\n"));
    var buffer = new byte[4096];
    while (true)
    {
        int n = await input.ReadAsync(buffer);
        if (n == 0) break;
        for (int i = 0; i < n; i++) buffer[i] = (byte)char.ToUpperInvariant((char)buffer[i]);
        await output.WriteAsync(buffer.AsMemory(0, n));
    }
    if (mode == "upper-no-dispose") return;
    await input.DisposeAsync();
    await output.DisposeAsync();
    await error.DisposeAsync();
});
return 0;

static bool NonBlocking(int fd) => (Native.fcntl(fd, 3 /* F_GETFL */, 0) & 0x800 /* O_NONBLOCK */) != 0;

internal static partial class Native
{
    [LibraryImport("libc", SetLastError = true)]
    internal static partial int fcntl(int fd, int command, int argument);
}
