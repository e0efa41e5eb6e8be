namespace Meanwhile.Examples;

/// <summary>
/// Waiting for tasks: a fast-food order. The soda takes 1 s, the burger 3 s, the fries 4 s. One cook doing
/// them one after the other needs 8 s; starting all three and waiting for them together needs 4 s.
/// </summary>
public static class FastFood
{
    private static readonly (string Item, TimeSpan Time)[] Order =
    [
        ("soda", TimeSpan.FromSeconds(1)),
        ("burger", TimeSpan.FromSeconds(3)),
        ("fries", TimeSpan.FromSeconds(4)),
    ];

    /// <summary>Prepares the order one item after the other; returns how long it took on the loop's clock.</summary>
    public static async Task<TimeSpan> ServeSequentiallyAsync(TextWriter output)
    {
        var loop = EventLoop.Current;
        long start = loop.Time.GetTimestamp();
        foreach (var (item, time) in Order)
            await PrepareAsync(output, item, time);
        return loop.Time.GetElapsedTime(start);
    }

    /// <summary>Starts every item at once and waits for all of them; returns how long it took.</summary>
    public static async Task<TimeSpan> ServeConcurrentlyAsync(TextWriter output)
    {
        var loop = EventLoop.Current;
        long start = loop.Time.GetTimestamp();
        var tasks = Order.Select(o => loop.Spawn(() => PrepareAsync(output, o.Item, o.Time), o.Item).AsTask());
        await loop.WhenAll(tasks);
        return loop.Time.GetElapsedTime(start);
    }

    private static async Task<string> PrepareAsync(TextWriter output, string item, TimeSpan time)
    {
        output.WriteLine($"start {item}");
        await EventLoop.Current.Sleep(time); // waiting costs nothing: the loop serves the other items
        output.WriteLine($"{item} ready");
        return item;
    }
}
