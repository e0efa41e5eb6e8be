namespace Meanwhile.Http.Server;

/// <summary>
/// Routes requests by method and path to handlers. Patterns are literal segments and parameters:
/// <c>/users/{id}</c>, <c>/files/{*path}</c> (a last catch-all parameter takes the rest of the path).
/// Matching works on the raw path bytes and allocates nothing; parameter values are read with
/// <see cref="ServerRequest.GetRouteValue"/>.
/// </summary>
/// <remarks>
/// Routes are tried in the order they were added. A GET route answers HEAD too. A path that matches a route of
/// another method gets 405 with <c>Allow</c>; no match gets <see cref="NotFound"/> (404 by default).
/// Build the router before the server starts; it is read-only afterwards and shared by every loop.
/// </remarks>
public sealed class Router
{
    private readonly List<Route> _routes = new();

    /// <summary>What answers when no route matches. Default: 404 with an empty body.</summary>
    public RequestHandler NotFound { get; set; } = static (_, response) =>
    {
        response.StatusCode = 404;
        return ValueTask.CompletedTask;
    };

    /// <summary>Adds a route.</summary>
    /// <param name="method">The method, e.g. <c>GET</c> (case-sensitive).</param>
    /// <param name="pattern">The path pattern, starting with <c>/</c>.</param>
    /// <param name="handler">What answers.</param>
    /// <returns>This router, to chain calls.</returns>
    public Router Map(string method, string pattern, RequestHandler handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(handler);
        if (!HttpCharsToken(method)) throw new ArgumentException("A method must be a token.", nameof(method));
        _routes.Add(new Route(System.Text.Encoding.ASCII.GetBytes(method), method, Segment.Parse(pattern), handler));
        return this;
    }

    /// <summary>Adds a GET (and HEAD) route.</summary>
    /// <param name="pattern">The path pattern.</param>
    /// <param name="handler">What answers.</param>
    public Router MapGet(string pattern, RequestHandler handler) => Map("GET", pattern, handler);

    /// <summary>Adds a POST route.</summary>
    /// <param name="pattern">The path pattern.</param>
    /// <param name="handler">What answers.</param>
    public Router MapPost(string pattern, RequestHandler handler) => Map("POST", pattern, handler);

    /// <summary>Adds a PUT route.</summary>
    /// <param name="pattern">The path pattern.</param>
    /// <param name="handler">What answers.</param>
    public Router MapPut(string pattern, RequestHandler handler) => Map("PUT", pattern, handler);

    /// <summary>Adds a DELETE route.</summary>
    /// <param name="pattern">The path pattern.</param>
    /// <param name="handler">What answers.</param>
    public Router MapDelete(string pattern, RequestHandler handler) => Map("DELETE", pattern, handler);

    /// <summary>The router as a handler: pass <c>router.HandleAsync</c> to the server.</summary>
    /// <param name="request">The request.</param>
    /// <param name="response">The response.</param>
    public ValueTask HandleAsync(ServerRequest request, ServerResponse response)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        var path = request.Path;
        bool pathMatched = false;
        foreach (var route in _routes)
        {
            request.ClearRouteValues();
            if (!route.Matches(path, request)) continue;
            var method = request.Method;
            if (method.SequenceEqual(route.Method) || (request.IsHead && route.Method.AsSpan().SequenceEqual("GET"u8)))
                return route.Handler(request, response);
            pathMatched = true;
        }
        request.ClearRouteValues();
        if (pathMatched)
        {
            response.StatusCode = 405;
            response.AddHeader("Allow", AllowedMethods(path, request));
            return ValueTask.CompletedTask;
        }
        return NotFound(request, response);
    }

    private string AllowedMethods(ReadOnlySpan<byte> path, ServerRequest request)
    {
        var methods = new List<string>();
        foreach (var route in _routes)
        {
            request.ClearRouteValues();
            if (route.Matches(path, request) && !methods.Contains(route.MethodName))
            {
                methods.Add(route.MethodName);
                if (route.MethodName == "GET" && !methods.Contains("HEAD")) methods.Add("HEAD");
            }
        }
        request.ClearRouteValues();
        return string.Join(", ", methods);
    }

    private static bool HttpCharsToken(string s)
    {
        foreach (char c in s)
            if (c <= ' ' || c >= 127 || "\"(),/:;<=>?@[\\]{}".Contains(c)) return false;
        return true;
    }

    private sealed record Route(byte[] Method, string MethodName, Segment[] Segments, RequestHandler Handler)
    {
        public bool Matches(ReadOnlySpan<byte> path, ServerRequest request)
        {
            if (path.IsEmpty || path[0] != (byte)'/') return false;
            int at = 1; // offset in the target (the path starts it)
            var rest = path[1..];
            for (int i = 0; i < Segments.Length; i++)
            {
                var segment = Segments[i];
                if (segment.CatchAll)
                {
                    if (!request.AddRouteValue(segment.Name!, at, rest.Length)) return false;
                    return true;
                }
                int slash = rest.IndexOf((byte)'/');
                var part = slash < 0 ? rest : rest[..slash];
                if (segment.Name is null)
                {
                    if (!part.SequenceEqual(segment.Literal)) return false;
                }
                else
                {
                    if (part.IsEmpty || !request.AddRouteValue(segment.Name, at, part.Length)) return false;
                }
                bool last = i == Segments.Length - 1;
                if (last) return slash < 0;
                if (slash < 0) return false;
                rest = rest[(slash + 1)..];
                at += part.Length + 1;
            }
            return rest.IsEmpty; // pattern "/" matches path "/"
        }
    }

    private sealed record Segment(byte[] Literal, string? Name, bool CatchAll)
    {
        public static Segment[] Parse(string pattern)
        {
            if (!pattern.StartsWith('/')) throw new ArgumentException("A route pattern starts with '/'.", nameof(pattern));
            if (pattern == "/") return [];
            var parts = pattern[1..].Split('/');
            var segments = new Segment[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                var part = parts[i];
                if (part.Length > 2 && part[0] == '{' && part[^1] == '}')
                {
                    var name = part[1..^1];
                    bool catchAll = name.StartsWith('*');
                    if (catchAll)
                    {
                        name = name[1..];
                        if (i != parts.Length - 1) throw new ArgumentException("A catch-all parameter must be the last segment.", nameof(pattern));
                    }
                    if (name.Length == 0) throw new ArgumentException("A route parameter needs a name.", nameof(pattern));
                    segments[i] = new Segment([], name, catchAll);
                }
                else
                {
                    if (part.Contains('{') || part.Contains('}')) throw new ArgumentException($"Bad route segment '{part}'.", nameof(pattern));
                    segments[i] = new Segment(System.Text.Encoding.UTF8.GetBytes(part), null, false);
                }
            }
            return segments;
        }
    }
}
