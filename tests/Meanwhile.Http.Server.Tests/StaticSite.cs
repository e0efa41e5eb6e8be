using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;

namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// A temporary directory laid out for static-file tests: <c>base/secret.txt</c> outside the served root
/// <c>base/www</c>, so every traversal test has a file it must never reveal. Deleted on dispose.
/// </summary>
internal sealed class StaticSite : IDisposable
{
    public const string Secret = "TOP-SECRET-OUTSIDE-THE-ROOT";

    public StaticSite()
    {
        Base = Directory.CreateTempSubdirectory("meanwhile-static-").FullName;
        Root = Path.Combine(Base, "www");
        Directory.CreateDirectory(Root);
        File.WriteAllText(Path.Combine(Base, "secret.txt"), Secret);
    }

    public string Base { get; }

    public string Root { get; }

    public string Write(string relative, string content) => Write(relative, Encoding.UTF8.GetBytes(content));

    public string Write(string relative, byte[] content)
    {
        string path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Base, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A server for static-file tests on a chosen reactor, counting the requests per path it answered.</summary>
internal sealed class CountingServer : IAsyncDisposable
{
    private readonly HttpServer _server;

    private CountingServer(HttpServer server, ConcurrentDictionary<string, int> counts)
    {
        _server = server;
        Counts = counts;
    }

    public int Port => _server.Port;

    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Requests answered, by request path as received.</summary>
    public ConcurrentDictionary<string, int> Counts { get; }

    public static async Task<CountingServer> StartAsync(RequestHandler handler, ReactorKind reactor = ReactorKind.Default)
    {
        var counts = new ConcurrentDictionary<string, int>();
        var server = new HttpServer((request, response) =>
        {
            counts.AddOrUpdate(Encoding.Latin1.GetString(request.Path), 1, (_, n) => n + 1);
            return handler(request, response);
        }, new HttpServerOptions { Port = 0, Loops = 1, Reactor = reactor });
        await server.StartAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return new CountingServer(server, counts);
    }

    public async ValueTask DisposeAsync() => await _server.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
}

/// <summary>One response as curl saw it with <c>-i</c>.</summary>
internal sealed record CurlResponse(int Status, string Head, string Body)
{
    public string? Header(string name)
    {
        foreach (var line in Head.Split("\r\n"))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Equals(name, StringComparison.OrdinalIgnoreCase)) return line[(colon + 1)..].Trim();
        }
        return null;
    }

    /// <summary>Runs curl with <c>-s -i --path-as-is</c> and the given arguments; parses the last response (after any 100).</summary>
    public static CurlResponse Get(params string[] args)
    {
        var (code, stdout, stderr) = Tool.Run("curl", ["-s", "-i", "--path-as-is", .. args]);
        Assert.True(code == 0, $"curl {string.Join(' ', args)} failed ({code}): {stderr}");
        while (true)
        {
            int end = stdout.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            Assert.True(end > 0, $"no head in: {stdout}");
            string head = stdout[..end];
            int status = int.Parse(head.Split(' ')[1]);
            string rest = stdout[(end + 4)..];
            // With -L (or after a 100) curl prints every response; the last one is the answer.
            if (status is (>= 100 and < 200) or (>= 300 and < 400) && rest.StartsWith("HTTP/1.1 ", StringComparison.Ordinal))
            {
                stdout = rest;
                continue;
            }
            return new CurlResponse(status, head, rest);
        }
    }
}

/// <summary>Sends one raw request (any bytes, no client normalisation) and reads the whole answer.</summary>
internal static class RawRequest
{
    public static (int Status, string Response) Send(int port, string requestLine)
    {
        using var client = new RawClient(port);
        client.Send($"{requestLine}\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        string response = client.ReadToEnd();
        Assert.StartsWith("HTTP/1.1 ", response);
        return (int.Parse(response.AsSpan(9, 3)), response);
    }
}

/// <summary>Minimal valid PNG files, written by hand (System.Drawing is not available on Linux).</summary>
internal static class Png
{
    /// <summary>A <paramref name="size"/>×<paramref name="size"/> opaque image of one colour (8-bit RGB).</summary>
    public static byte[] Solid(int size, byte red, byte green, byte blue)
    {
        var raw = new MemoryStream();
        for (int y = 0; y < size; y++)
        {
            raw.WriteByte(0); // filter: none
            for (int x = 0; x < size; x++)
            {
                raw.WriteByte(red);
                raw.WriteByte(green);
                raw.WriteByte(blue);
            }
        }
        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) raw.WriteTo(zlib);

        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, size);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), size);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type: RGB
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typed));
        png.Write(word);
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}

/// <summary>A fact that must not run as root (root ignores file permissions).</summary>
public sealed class NotRootFactAttribute : FactAttribute
{
    public NotRootFactAttribute()
    {
        if (Environment.UserName == "root") Skip = "running as root, which reads any file whatever its permissions";
    }
}

/// <summary>A theory that needs an external program.</summary>
public sealed class ToolTheoryAttribute : TheoryAttribute
{
    public ToolTheoryAttribute(string tool)
    {
        if (!Tool.Exists(tool)) Skip = $"{tool} is not installed";
    }
}
