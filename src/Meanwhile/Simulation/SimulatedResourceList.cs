namespace Meanwhile;

/// <summary>
/// What a simulated host has open, in the order it was opened (the order of ids: a crash resets them in that order). The
/// links live in the resources themselves: ten thousand connections opening and closing cost no entry, no hashing and
/// no growing table.
/// </summary>
internal sealed class SimulatedResourceList
{
    private ISimulatedResource? _first;
    private ISimulatedResource? _last;

    public int Count { get; private set; }

    /// <summary>Adds a resource just opened (its id is the highest so far).</summary>
    public void Add(ISimulatedResource resource)
    {
        resource.PreviousResource = _last;
        resource.NextResource = null;
        if (_last is null) _first = resource;
        else _last.NextResource = resource;
        _last = resource;
        Count++;
    }

    /// <summary>Removes a resource that closed; nothing if it is not in the list (any more).</summary>
    public void Remove(ISimulatedResource resource)
    {
        var previous = resource.PreviousResource;
        var next = resource.NextResource;
        if (previous is not null) previous.NextResource = next;
        else if (ReferenceEquals(_first, resource)) _first = next;
        else return;
        if (next is not null) next.PreviousResource = previous;
        else _last = previous;
        resource.PreviousResource = resource.NextResource = null;
        Count--;
    }

    /// <summary>A copy, in the order of ids (what a crash walks while each resource removes itself).</summary>
    public ISimulatedResource[] ToArray()
    {
        var all = new ISimulatedResource[Count];
        int i = 0;
        for (var resource = _first; resource is not null; resource = resource.NextResource) all[i++] = resource;
        return all;
    }
}
