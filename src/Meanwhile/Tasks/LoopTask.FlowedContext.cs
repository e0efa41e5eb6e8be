namespace Meanwhile;

// How a task carries its spawner's ExecutionContext until it starts (Spawn flows it, as Task.Run does): in the extras'
// slot, alone or paired with the task's name, so that spawning allocates nothing more for it in the usual cases.
public partial class LoopTask
{
    /// <summary>
    /// A named task's name and the execution context it flows, until it starts; immutable, so the tasks that one spawner
    /// starts with one name (a server's connections) share the last one made on their loop (kept by the loop, not by the
    /// thread: a context can hold a whole simulated host through its AsyncLocal values).
    /// </summary>
    private sealed class NamedContext(string name, ExecutionContext context)
    {
        public string Name => name;

        public ExecutionContext Context => context;

        public static NamedContext For(EventLoop loop, string name, ExecutionContext context)
        {
            if (loop.LastNamedContext is NamedContext last && ReferenceEquals(last.Name, name) && ReferenceEquals(last.Context, context)) return last;
            var made = new NamedContext(name, context);
            loop.LastNamedContext = made;
            return made;
        }
    }

    /// <summary>The spawner's execution context kept by the constructor, if any, taken out of its slot.</summary>
    private ExecutionContext? TakeFlowedContext()
    {
        switch (_extras)
        {
            case ExecutionContext context:
                _extras = null;
                return context;
            case NamedContext named:
                _extras = named.Name;
                return named.Context;
            case Extras { Flowed: { } context } extras:
                extras.Flowed = null;
                return context;
            default:
                return null;
        }
    }

    /// <summary>Calls the work in <paramref name="context"/>, with the task as the callback's state: no object per start.</summary>
    private Task InvokeIn(ExecutionContext context)
    {
        ExecutionContext.Run(context, static s => { var task = (LoopTask)s!; task._workOrInner = task.Invoke(task.TakeWork()); }, this);
        return (Task)TakeWork()!;
    }
}
