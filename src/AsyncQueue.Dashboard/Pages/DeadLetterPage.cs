using System.Text;
using System.Text.Json;
using AsyncQueue.Dashboard.Html;
using AsyncQueue.Storage;
using Microsoft.AspNetCore.Http;

namespace AsyncQueue.Dashboard.Pages;

/// <summary>
/// <c>GET {dashboard}/dead-letter/{id}</c>: one dead letter, its payload as JSON with the properties the application
/// marks <see cref="SensitiveAttribute"/> shown as <c>***</c> (<see cref="DeadLetterEntry.DescribeJob"/>), its
/// errors, and requeue and delete.
/// </summary>
internal static class DeadLetterPage
{
    public static async Task<IResult> RenderAsync(HttpContext context, MappedDashboard dashboard, string id)
    {
        var basePath = dashboard.BasePath(context);
        var entry = JobId.TryParse(id, out var jobId) ? await dashboard.DeadLetters.GetAsync(jobId, context.RequestAborted).ConfigureAwait(false) : null;
        var html = new HtmlBuilder();
        if (entry is null)
        {
            html.Add($"""<p class="error">No dead-letter queue holds a job with the id “{id}”. It may have been requeued, deleted, purged or evicted; <a href="{basePath}/job/{id}">look the job up</a>.</p>""");
            return Layout.Page(context, dashboard, "Dead letter not found", html.ToFragment(), StatusCodes.Status404NotFound);
        }

        var entryPath = $"{basePath}/dead-letter/{entry.JobId}";
        html.Add($"""
            <dl class="facts">
            <dt>Id</dt><dd><a href="{basePath}/job/{entry.JobId}"><code>{entry.JobId}</code></a></dd>
            <dt>Kind</dt><dd>{entry.Kind}</dd>
            <dt>Queue</dt><dd>{entry.Queue}</dd>
            <dt>Dead-letter queue</dt><dd><a href="{basePath}/dead-letters/{Uri.EscapeDataString(entry.DeadLetterQueue)}">{entry.DeadLetterQueue}</a></dd>
            <dt>Attempts</dt><dd>{entry.Attempts}</dd>
            <dt>Enqueued</dt><dd>{Layout.Time(entry.EnqueuedAt)}</dd>
            <dt>Dead-lettered</dt><dd>{Layout.Time(entry.DeadLetteredAt)}</dd>
            </dl>
            <div class="actions">{Layout.ActionForm(context, $"{entryPath}/requeue", "Requeue")} {Layout.ActionForm(context, $"{entryPath}/delete", "Delete", "Delete this dead letter for good?", "danger")}</div>
            <h2>Payload</h2>
            """);
        if (entry.Job is UnreadableJob unreadable)
        {
            html.Add($"""<p class="error">The stored job cannot be read: {unreadable.Reason} (<code>{unreadable.ErrorType}</code>). Its stored text is not shown: which of its fields are sensitive cannot be known.</p>""");
        }
        else if (entry.DescribeJob() is { } description)
        {
            html.Add($"""<pre id="payload" class="json">{Json(description)}</pre><p class="muted">Each property as text; properties marked [Sensitive] are shown as ***.</p>""");
        }
        else
        {
            html.Add($"""<p class="muted">Not shown: no handler in this process registers the job's type, so which of its fields are sensitive is not known here.</p>""");
        }

        html.Add(Errors.Render(entry.Errors));
        return Layout.Page(context, dashboard, $"Dead letter {entry.Kind}", html.ToFragment());
    }

    private static string Json(IReadOnlyDictionary<string, string?> description)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            foreach (var (name, value) in description)
            {
                json.WriteString(name, value);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
