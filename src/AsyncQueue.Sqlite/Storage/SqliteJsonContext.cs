using System.Text.Json.Serialization;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>The source-generated JSON contract of the queue-name list the rescue query reads with <c>json_each</c>.</summary>
[JsonSerializable(typeof(string[]))]
internal sealed partial class SqliteJsonContext : JsonSerializerContext;
