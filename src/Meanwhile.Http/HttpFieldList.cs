namespace Meanwhile.Http;

/// <summary>The field lines of a header or trailer section, in arrival order, repeated names kept apart.</summary>
/// <remarks>A view over the parser's storage: valid until the parser starts the next message.</remarks>
public readonly struct HttpFieldList
{
    private readonly HeadStore? _store;
    private readonly int _first;

    internal HttpFieldList(HeadStore store, int first, int count)
    {
        this._store = store;
        this._first = first;
        Count = count;
    }

    /// <summary>How many field lines the section has.</summary>
    public int Count { get; }

    /// <summary>The field line at <paramref name="index"/>, in arrival order.</summary>
    /// <param name="index">From 0 to <see cref="Count"/> - 1.</param>
    public HttpField this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return At(index);
        }
    }

    // The enumerator's index is in range by construction: no argument checks on a proxy's walk of every field.
    private HttpField At(int index)
    {
        ref readonly FieldEntry entry = ref _store!.Field(_first + index);
        return _store.Field(entry);
    }

    /// <summary>Finds the first field named <paramref name="name"/> (ASCII case-insensitive).</summary>
    /// <param name="name">The field name to look for.</param>
    /// <param name="value">The first matching value, or empty.</param>
    /// <returns>Whether a field with that name exists.</returns>
    public bool TryGetValue(ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        for (int i = 0; i < Count; i++)
        {
            ref readonly FieldEntry entry = ref _store!.Field(_first + i);
            if (HttpField.EqualsIgnoreCase(_store[entry.Name], name))
            {
                value = _store[entry.Value];
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>Enumerates the field lines in arrival order without allocating.</summary>
    /// <returns>An enumerator for <c>foreach</c>.</returns>
    public Enumerator GetEnumerator() => new(this);

    /// <summary>Walks a <see cref="HttpFieldList"/> in arrival order.</summary>
    public ref struct Enumerator
    {
        private readonly HttpFieldList _list;
        private int _index;

        internal Enumerator(HttpFieldList list)
        {
            this._list = list;
            _index = -1;
        }

        /// <summary>The current field line.</summary>
        public readonly HttpField Current => _list.At(_index);

        /// <summary>Moves to the next field line.</summary>
        /// <returns>False after the last one.</returns>
        public bool MoveNext() => ++_index < _list.Count;
    }
}
