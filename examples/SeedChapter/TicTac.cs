namespace Meanwhile.Examples;

/// <summary>
/// The chapter's first example: two coroutines each print "Tic", hand the loop over, then print "Tac".
/// Run concurrently they interleave: Tic, Tic, Tac, Tac.
/// </summary>
public static class TicTac
{
    public static async Task RunAsync(TextWriter output)
    {
        var loop = EventLoop.Current;

        async Task TicThenTac()
        {
            output.WriteLine("Tic");
            await loop.Yield(); // suspend: the loop runs the other task meanwhile
            output.WriteLine("Tac");
        }

        var first = loop.Spawn(TicThenTac, "first");
        var second = loop.Spawn(TicThenTac, "second");
        await first;
        await second;
    }
}
