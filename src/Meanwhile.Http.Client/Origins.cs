namespace Meanwhile.Http.Client;

/// <summary>
/// The client's connection pools, one per origin (scheme, host, port), and the request-target bytes of the last URI
/// asked for: clients tend to repeat a URI, and its pool and target then cost no lookup and no encoding.
/// </summary>
/// <remarks>Loop thread only.</remarks>
internal sealed class Origins(ClientContext context)
{
    private readonly Dictionary<string, OriginPool> _pools = new(StringComparer.Ordinal);
    private Uri? _lastUri;
    private OriginPool? _lastPool;
    private byte[] _lastTarget = [];

    /// <summary>The pool for <paramref name="uri"/>'s origin (made on first use) and its request-target bytes.</summary>
    public OriginPool PoolFor(Uri uri, out byte[] target)
    {
        if (!ReferenceEquals(uri, _lastUri))
        {
            string key = KeyOf(uri);
            if (!_pools.TryGetValue(key, out var pool))
            {
                pool = new OriginPool(context, uri);
                _pools.Add(key, pool);
            }

            _lastPool = pool;
            _lastTarget = System.Text.Encoding.ASCII.GetBytes(uri.GetComponents(UriComponents.PathAndQuery, UriFormat.UriEscaped));
            _lastUri = uri;
        }

        target = _lastTarget;
        return _lastPool!;
    }

    /// <summary>Connections open (or being opened) to <paramref name="uri"/>'s origin; 0 for one never contacted.</summary>
    public int OpenCount(Uri uri) => _pools.TryGetValue(KeyOf(uri), out var pool) ? pool.OpenCount : 0;

    /// <summary>Closes every idle connection (busy ones close when their responses are released).</summary>
    public void CloseIdle()
    {
        foreach (var pool in _pools.Values)
        {
            pool.CloseIdle();
        }
    }

    private static string KeyOf(Uri uri) => $"{uri.Scheme}://{uri.IdnHost}:{uri.Port}";
}
