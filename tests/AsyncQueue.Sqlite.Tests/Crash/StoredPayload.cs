using System.Text.Json;

namespace AsyncQueue.Sqlite.Tests.Crash;

/// <summary>Reads the test worker's jobs as the database stores them.</summary>
internal static class StoredPayload
{
    /// <summary>The <c>Number</c> of a stored job or dead letter's payload (a column value read raw).</summary>
    public static int Number(object? payload)
    {
        using var json = JsonDocument.Parse((string)payload!);
        return json.RootElement.GetProperty("Number").GetInt32();
    }
}
