using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// Names the code a turn runs, for slow-turn reports and <c>meanwhile ps</c>: "ServerConnection.RunAsync" for an async
/// method (read from its state machine's type, which the compiler names <c>&lt;RunAsync&gt;d__12</c>), "Program.Main
/// (lambda)" for a lambda. Type names only, no reflection over members, so it works under Native AOT; names are cached
/// per type, since a snapshot asks for the same few methods thousands of times.
/// </summary>
internal static class AsyncMethodNames
{
    private static readonly ConcurrentDictionary<Type, string> Names = new();

    /// <summary>The method <paramref name="code"/> runs: an async method's box (or its MoveNext delegate), another delegate, or a work item.</summary>
    public static string? Of(object? code) => code switch
    {
        null => null,
        // An async method's continuation is its box's MoveNext: the box names the method.
        Delegate { Target: { } target } when StateMachineOf(target.GetType()) is not null => Of(target),
        Delegate callback => OfDelegate(callback),
        _ => Names.GetOrAdd(code.GetType(), static type => StateMachineOf(type) is { } machine ? OfStateMachine(machine) : TypeName(type)),
    };

    /// <summary>
    /// A task's method from its code (<see cref="LoopTask.DiagnosticCode"/>): the work delegate before it starts, then the
    /// Task its work returned, which names the method only if it is an async method's box; null for any other Task.
    /// </summary>
    public static string? OfTaskCode(object? code) => code is Task && StateMachineOf(code.GetType()) is null ? null : Of(code);

    /// <summary>Whether <paramref name="code"/> is code to name (a delegate or an async method's box) rather than some state passed to it.</summary>
    public static bool IsCode(object code) => code is Delegate || StateMachineOf(code.GetType()) is not null;

    /// <summary>The state machine type among a box's generic arguments (AsyncStateMachineBox&lt;TResult, TStateMachine&gt;, and the pooling builders' boxes).</summary>
    private static Type? StateMachineOf(Type type)
    {
        if (typeof(IAsyncStateMachine).IsAssignableFrom(type)) return type; // a Debug build's class state machine
        if (!type.IsGenericType) return null;
        foreach (var argument in type.GetGenericArguments())
            if (typeof(IAsyncStateMachine).IsAssignableFrom(argument)) return argument;
        return null;
    }

    private static string OfStateMachine(Type machine) => Join(TypeName(machine.DeclaringType), MethodName(machine.Name));

    private static string OfDelegate(Delegate callback)
    {
        try
        {
            var method = callback.Method;
            return Join(TypeName(method.DeclaringType), MethodName(method.Name));
        }
        catch (NotSupportedException)
        {
            return TypeName(callback.GetType()); // a runtime that keeps no method metadata for it
        }
    }

    private static string Join(string type, string method) => type.Length == 0 ? method : $"{type}.{method}";

    /// <summary>
    /// A compiler-generated method name in words: <c>&lt;RunAsync&gt;d__12</c> is RunAsync, a lambda in Main
    /// (<c>&lt;Main&gt;b__0_0</c>) "Main (lambda)", a local function (<c>&lt;Main&gt;g__Step|0_1</c>) "Main.Step".
    /// </summary>
    internal static string MethodName(string name)
    {
        if (name.Length == 0 || name[0] != '<') return name;
        int close = MatchingClose(name);
        if (close < 0) return name;
        string inner = MethodName(name[1..close]);
        string suffix = name[(close + 1)..];
        if (suffix.StartsWith("b__", StringComparison.Ordinal)) return $"{inner} (lambda)";
        if (suffix.StartsWith("g__", StringComparison.Ordinal))
        {
            int end = suffix.IndexOf('|');
            return $"{inner}.{(end < 0 ? suffix[3..] : suffix[3..end])}";
        }
        return inner;
    }

    private static int MatchingClose(string name)
    {
        int depth = 0;
        for (int i = 0; i < name.Length; i++)
        {
            if (name[i] == '<') depth++;
            else if (name[i] == '>' && --depth == 0) return i;
        }
        return -1;
    }

    /// <summary>A type as code names it, without namespace or generic arity; compiler-generated holders (<c>&lt;&gt;c</c>, display classes) are left out.</summary>
    internal static string TypeName(Type? type)
    {
        string name = "";
        for (; type is not null; type = type.DeclaringType)
        {
            if (type.Name.StartsWith("<>", StringComparison.Ordinal)) continue;
            string part = type.Name;
            int tick = part.IndexOf('`');
            if (tick >= 0) part = part[..tick];
            name = name.Length == 0 ? part : $"{part}.{name}";
        }
        return name;
    }
}
