using AsyncQueue.Dashboard.Html;
using Microsoft.AspNetCore.Http;

namespace AsyncQueue.Dashboard.Pages;

/// <summary>
/// <c>GET {dashboard}/recurring</c>: every recurring schedule of this process (<see cref="Recurring.IRecurringJobs.List"/>),
/// with pause or resume, trigger now and remove. An app without recurring jobs gets a page that says it runs none, and
/// no link to it in the header.
/// </summary>
internal static class RecurringPage
{
    public static Task<IResult> RenderAsync(HttpContext context, MappedDashboard dashboard)
    {
        var html = new HtmlBuilder();
        var schedules = dashboard.Recurring?.List() ?? [];
        if (schedules.Count == 0)
        {
            html.Add($"""<p class="muted" id="no-recurring">This process runs no recurring jobs (<code>AddRecurringJob</code>).</p>""");
            return Task.FromResult(Layout.Page(context, dashboard, "Recurring", html.ToFragment()));
        }

        var basePath = dashboard.BasePath(context);
        html.Add($"""
            <table class="recurring">
            <thead><tr><th>Name</th><th>Cron</th><th>Time zone</th><th>State</th><th>Next run</th><th>Last run</th><th></th></tr></thead>
            <tbody>
            """);
        foreach (var schedule in schedules)
        {
            var path = $"{basePath}/recurring/{Uri.EscapeDataString(schedule.Name)}";
            var toggle = schedule.Paused
                ? Layout.ActionForm(context, $"{path}/resume", "Resume")
                : Layout.ActionForm(context, $"{path}/pause", "Pause");
            html.Add($"""
                <tr data-recurring="{schedule.Name}">
                <th scope="row">{schedule.Name}</th>
                <td><code>{schedule.Cron}</code></td>
                <td>{schedule.TimeZone.Id}</td>
                <td data-field="state" class="{(schedule.Paused ? "paused" : "active")}">{(schedule.Paused ? "Paused" : "Active")}</td>
                <td data-field="next-run">{Layout.Time(schedule.NextRun)}</td>
                <td data-field="last-run">{Layout.Time(schedule.LastRun)}</td>
                <td><div class="actions">{toggle} {Layout.ActionForm(context, $"{path}/trigger", "Trigger now")} {Layout.ActionForm(context, $"{path}/remove", "Remove", $"Remove the schedule {schedule.Name} from this process? It enqueues nothing more here until the app starts again.", "danger")}</div></td>
                </tr>
                """);
        }

        html.Add($"""
            </tbody>
            </table>
            <p class="muted">Times in UTC; the cron expression is read in its time zone. These schedules and their actions are this process's own: every process registers its schedules at start, and one job per tick runs across them all. To stop a job everywhere, pause the queue it runs on.</p>
            """);
        return Task.FromResult(Layout.Page(context, dashboard, "Recurring", html.ToFragment()));
    }
}
