namespace Meanwhile.Http.Client.Tests;

/// <summary>Client test bodies on a fresh loop (<see cref="Loops"/>), and the failures they expect.</summary>
internal static class ClientLoops
{
    /// <summary>Runs <paramref name="main"/> with a client made with <paramref name="options"/>, disposed at the end.</summary>
    public static void WithClient(Func<LoopHttpClient, Task> main, LoopHttpClientOptions? options = null) => Loops.Run(async () =>
    {
        await using var client = new LoopHttpClient(options);
        await main(client);
    });

    public static Task<LoopHttpException> Fails(Func<ValueTask<LoopHttpResponse>> send) => Fails(async () =>
    {
        using var response = await send();
    });

    public static async Task<LoopHttpException> Fails(Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (LoopHttpException e)
        {
            return e;
        }

        throw new Xunit.Sdk.XunitException("Expected a LoopHttpException; the call succeeded.");
    }
}
