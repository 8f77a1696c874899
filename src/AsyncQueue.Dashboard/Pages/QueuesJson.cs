using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace AsyncQueue.Dashboard.Pages;

/// <summary>
/// <c>GET {dashboard}/api/queues</c>: the front page's counts and chart data, read by the script every few seconds.
/// Written by hand with <see cref="Utf8JsonWriter"/>: a fixed shape, no serializer reflection.
/// </summary>
internal static class QueuesJson
{
    public static async Task<IResult> RenderAsync(HttpContext context, MappedDashboard dashboard)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var queue in dashboard.Monitor.Queues)
            {
                var status = await dashboard.Monitor.GetStatusAsync(queue.Name, context.RequestAborted).ConfigureAwait(false);
                var throughput = dashboard.Throughput.Snapshot(queue.Name);
                json.WriteStartObject();
                json.WriteString("queue", queue.Name);
                json.WriteBoolean("paused", status.Paused);
                json.WriteNumber("waiting", status.Waiting);
                json.WriteNumber("scheduled", status.Scheduled);
                json.WriteNumber("running", status.Running);
                json.WriteNumber("succeeded", throughput.Succeeded);
                json.WriteNumber("deadLettered", status.DeadLettered);
                json.WriteString("deadLetterQueue", status.DeadLetterQueue);
                WriteSeries(json, "succeededPerSecond", throughput.SucceededPerSecond);
                WriteSeries(json, "failedPerSecond", throughput.FailedPerSecond);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        context.Response.Headers.CacheControl = "no-store";
        return Results.Bytes(buffer.WrittenMemory, "application/json");
    }

    private static void WriteSeries(Utf8JsonWriter json, string name, long[] values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteNumberValue(value);
        }

        json.WriteEndArray();
    }
}
