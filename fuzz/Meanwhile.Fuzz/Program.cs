using Meanwhile.Fuzz;
using SharpFuzz;

// Usage:
//   Meanwhile.Fuzz TARGET            run under AFL++ (afl-fuzz starts it; see fuzz/run.sh)
//   Meanwhile.Fuzz TARGET FILE...    replay inputs once each, e.g. a crash afl-fuzz found
if (args.Length == 0 || !FuzzTargets.Names.Contains(args[0]))
{
    Console.Error.WriteLine($"usage: Meanwhile.Fuzz {string.Join("|", FuzzTargets.Names)} [FILE...]");
    return 2;
}

string target = args[0];
if (args.Length == 1)
{
    // Out of process: a StackOverflowException in the target is reported as a crash rather than killing the fork server.
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        FuzzTargets.Run(target, copy.GetBuffer().AsSpan(0, (int)copy.Length));
    });
    return 0;
}

int failures = 0;
foreach (string file in args.Skip(1))
{
    try
    {
        FuzzTargets.Run(target, File.ReadAllBytes(file));
        Console.WriteLine($"ok    {file}");
    }
    catch (Exception e)
    {
        failures++;
        Console.WriteLine($"FAIL  {file}: {e}");
    }
}

return failures == 0 ? 0 : 1;
