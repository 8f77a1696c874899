using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AsyncQueue.Storage.Durable;

/// <summary>
/// Turns jobs into JSON and back, only ever into the type registered for the job's kind (<see cref="IJobKindRegistry"/>):
/// the stored data never names a CLR type. Errors are JSON too, through a source-generated context. Shared by the
/// durable stores (compiled into each package); <paramref name="storeName"/> names the store in error messages.
/// </summary>
[RequiresUnreferencedCode(SerializationMessage)]
[RequiresDynamicCode(SerializationMessage)]
internal sealed class JobPayloads(IJobKindRegistry kinds, JsonSerializerOptions? options, string storeName)
{
    // Callers carry their package's own message (naming its options type) on the public Use* method users call.
    private const string SerializationMessage =
        "Job payloads are serialized with System.Text.Json over the registered job types. In a trimmed or native AOT app, set the store options' SerializerOptions with a source-generated JsonSerializerContext that covers every job type.";

    private readonly JsonSerializerOptions _options = options ?? JsonSerializerOptions.Default;

    /// <summary>Serializes every job of a batch, in order, before any is stored.</summary>
    public string[] SerializeAll(IReadOnlyList<JobRecord> jobs)
    {
        var payloads = new string[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            payloads[i] = Serialize(jobs[i]);
        }

        return payloads;
    }

    public string Serialize(JobRecord job) => JsonSerializer.Serialize(job.Job, TypeOf(job), _options);

    /// <summary>Serializes a job straight to UTF-8, for a store that keeps bytes (no string in between).</summary>
    public byte[] SerializeToUtf8(JobRecord job) => JsonSerializer.SerializeToUtf8Bytes(job.Job, TypeOf(job), _options);

    /// <summary>Reads a stored UTF-8 payload as <see cref="Read(string, string?)"/> does, decoding it to a string only when it cannot be read.</summary>
    /// <returns>The job, or the unreadable stand-in, which the dispatcher dead-letters.</returns>
    public object Read(string kind, ReadOnlySpan<byte> utf8)
    {
        if (kinds.TryGetJobType(kind, out var type))
        {
            try
            {
                if (JsonSerializer.Deserialize(utf8, type, _options) is { } job)
                {
                    return job;
                }
            }
#pragma warning disable CA1031 // Read again below from the string, which says why, for the dead letter.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        return Read(kind, System.Text.Encoding.UTF8.GetString(utf8));
    }

    private Type TypeOf(JobRecord job) =>
        kinds.TryGetJobType(job.Kind, out var type)
            ? type
            : throw new InvalidOperationException($"Job kind '{job.Kind}' has no registered job type, so the {storeName} store cannot store it.");

    /// <summary>Reads a stored payload into its kind's registered type, or, when it cannot be read, into an <see cref="UnreadableJob"/> that says why.</summary>
    /// <returns>The job, which the dispatcher runs, or the unreadable stand-in, which it dead-letters.</returns>
    public object Read(string kind, string? payload) =>
        TryDeserialize(kind, payload, out var reason, out var errorType) ?? new UnreadableJob(kind, payload, reason, errorType);

    /// <summary>Reads a stored payload into its kind's registered type.</summary>
    /// <returns>The job, or <see langword="null"/> with the reason and the error's type name when it cannot be read.</returns>
    public object? TryDeserialize(string kind, string? payload, out string reason, out string errorType)
    {
        reason = "";
        errorType = "";
        if (!kinds.TryGetJobType(kind, out var type))
        {
            errorType = "AsyncQueue.UnknownJobKind";
            reason = $"No handler is registered for job kind '{kind}'.";
            return null;
        }

        if (payload is null)
        {
            errorType = typeof(JsonException).FullName!;
            reason = $"The stored payload of kind '{kind}' is missing.";
            return null;
        }

        try
        {
            var job = JsonSerializer.Deserialize(payload, type, _options);
            if (job is not null)
            {
                return job;
            }

            errorType = typeof(JsonException).FullName!;
            reason = $"The stored payload of kind '{kind}' is JSON null, not a {type.Name}.";
        }
#pragma warning disable CA1031 // Any failure to read a payload dead-letters that one job with the reason; it must not stop the store.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            errorType = ex.GetType().FullName ?? ex.GetType().Name;
            reason = $"The stored payload of kind '{kind}' does not deserialize into {type.Name}: {ex.Message}";
        }

        return null;
    }

    public static string? SerializeErrors(IReadOnlyList<JobError> errors) =>
        errors.Count == 0 ? null : JsonSerializer.Serialize([.. errors], DurableJsonContext.Default.ListJobError);

    public static List<JobError> DeserializeErrors(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize(json, DurableJsonContext.Default.ListJobError) ?? [];
        }
        catch (JsonException ex)
        {
            // The error history is for people; a damaged one must not stop the job.
            return [new JobError(0, DateTimeOffset.MinValue, typeof(JsonException).FullName!, $"The stored error history could not be read: {ex.Message}", null)];
        }
    }
}

/// <summary>The source-generated JSON contract of the error history.</summary>
[JsonSerializable(typeof(List<JobError>))]
internal sealed partial class DurableJsonContext : JsonSerializerContext;
