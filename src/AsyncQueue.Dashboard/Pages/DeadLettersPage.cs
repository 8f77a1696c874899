using System.Globalization;
using AsyncQueue.Dashboard.Html;
using Microsoft.AspNetCore.Http;

namespace AsyncQueue.Dashboard.Pages;

/// <summary>
/// <c>GET {dashboard}/dead-letters/{name}?page=N</c>: one dead-letter queue, a page at a time (the store's
/// <see cref="IDeadLetterQueue.ListAsync"/> with skip and take), so 10,000 dead letters open as fast as 10.
/// </summary>
internal static class DeadLettersPage
{
    public static async Task<IResult> RenderAsync(HttpContext context, MappedDashboard dashboard, string name, string? page)
    {
        var html = new HtmlBuilder();
        if (!dashboard.IsDeadLetterQueue(name))
        {
            html.Add($"""<p class="error">No configured queue sends its failed jobs to “{name}”.</p>""");
            return Layout.Page(context, dashboard, "Dead-letter queue not found", html.ToFragment(), StatusCodes.Status404NotFound);
        }

        var basePath = dashboard.BasePath(context);
        var listPath = $"{basePath}/dead-letters/{Uri.EscapeDataString(name)}";
        var size = dashboard.Options.PageSize;
        var count = await dashboard.DeadLetters.CountAsync(name, context.RequestAborted).ConfigureAwait(false);
        var pages = (int)Math.Max(1, (count + size - 1) / size);
        var current = Math.Clamp(int.TryParse(page, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : 1, 1, pages);
        var entries = await dashboard.DeadLetters.ListAsync(name, (current - 1) * size, size, context.RequestAborted).ConfigureAwait(false);

        html.Add($"""<p><span id="dead-letter-count">{Layout.Count(count)}</span> dead letter(s), oldest first. Page {current} of {pages}.</p>""");
        if (count > 0)
        {
            html.Add($"""<div class="actions">{Layout.ActionForm(context, $"{listPath}/requeue-all", "Requeue all", $"Requeue every job of {name}?")} {Layout.ActionForm(context, $"{listPath}/purge", "Purge", $"Delete every job of {name} for good?", "danger")}</div>""");
        }

        html.Add($"""
            <table class="dead-letters">
            <thead><tr><th>Job</th><th>Kind</th><th>Queue</th><th class="n">Attempts</th><th>Dead-lettered</th><th>Last error</th></tr></thead>
            <tbody>
            """);
        foreach (var entry in entries)
        {
            var lastError = entry.Errors.Count > 0 ? $"{entry.Errors[^1].ExceptionType}: {entry.Errors[^1].Message}" : "no error recorded";
            html.Add($"""
                <tr data-job="{entry.JobId}"><td><a href="{basePath}/dead-letter/{entry.JobId}"><code>{entry.JobId}</code></a></td><td>{entry.Kind}</td><td>{entry.Queue}</td><td class="n">{entry.Attempts}</td><td>{Layout.Time(entry.DeadLetteredAt)}</td><td class="message">{Shorten(lastError)}</td></tr>
                """);
        }

        html.Add($"""
            </tbody>
            </table>
            <nav class="pager">
            """);
        if (current > 1)
        {
            html.Add($"""<a rel="prev" href="{listPath}?page={current - 1}">← Newer page</a> """);
        }

        if (current < pages)
        {
            html.Add($"""<a rel="next" href="{listPath}?page={current + 1}">Older page →</a>""");
        }

        html.Add($"""</nav>""");
        return Layout.Page(context, dashboard, $"Dead letters: {name}", html.ToFragment());
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : string.Concat(text.AsSpan(0, 199), "…");
}
