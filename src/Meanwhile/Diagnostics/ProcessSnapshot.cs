using System.Text.Json;

namespace Meanwhile;

/// <summary>
/// Every loop of a process with diagnostics on, as its diagnostics endpoint answered (<see cref="LoopDiagnosticsClient"/>,
/// <c>meanwhile ps PID --json</c>). <see cref="ToJson"/> and <see cref="Parse(string)"/> are the endpoint's wire format,
/// described in docs/diagnostics.md.
/// </summary>
public sealed class ProcessSnapshot
{
    /// <summary>The process id.</summary>
    public required int ProcessId { get; init; }

    /// <summary>The process's name.</summary>
    public required string ProcessName { get; init; }

    /// <summary>When the snapshot was taken.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>The loops with diagnostics on.</summary>
    public IReadOnlyList<LoopSnapshot> Loops { get; init; } = [];

    /// <summary>The snapshot in the endpoint's JSON format, on one line.</summary>
    public string ToJson(bool indented = false)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
            SnapshotJson.Write(writer, this);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Reads a snapshot in the endpoint's JSON format.</summary>
    /// <param name="json">The JSON text.</param>
    /// <exception cref="FormatException">It is not such a snapshot.</exception>
    public static ProcessSnapshot Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = JsonDocument.Parse(json);
            return SnapshotJson.ReadProcess(document.RootElement);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new FormatException($"Not a Meanwhile diagnostics snapshot: {e.Message}", e);
        }
    }
}
