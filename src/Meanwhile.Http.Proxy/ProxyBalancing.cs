namespace Meanwhile.Http.Proxy;

/// <summary>How a <see cref="ProxyHandler"/> picks among its healthy upstreams.</summary>
public enum ProxyBalancing
{
    /// <summary>Each in turn (nginx's default).</summary>
    RoundRobin,

    /// <summary>The one with the fewest requests in flight from this loop, ties broken in turn (nginx's <c>least_conn</c>).</summary>
    LeastOutstanding,
}
