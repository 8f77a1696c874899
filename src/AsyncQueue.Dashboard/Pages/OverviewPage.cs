using AsyncQueue.Dashboard.Html;
using Microsoft.AspNetCore.Http;

namespace AsyncQueue.Dashboard.Pages;

/// <summary>
/// The dashboard's front page: every configured queue with its counts, its throughput over the last minute, and
/// pause or resume. The script refreshes the counts and draws the chart from <see cref="QueuesJson"/>; without it the
/// page still shows the counts as they were when it loaded.
/// </summary>
internal static class OverviewPage
{
    public static async Task<IResult> RenderAsync(HttpContext context, MappedDashboard dashboard)
    {
        var basePath = dashboard.BasePath(context);
        var html = new HtmlBuilder();
        html.Add($"""
            <table class="queues">
            <thead><tr><th>Queue</th><th>State</th><th class="n">Waiting</th><th class="n">Scheduled</th><th class="n">Running</th><th class="n">Succeeded<sup>*</sup></th><th class="n">Dead-lettered</th><th>Throughput, last minute<sup>*</sup></th><th></th></tr></thead>
            <tbody>
            """);
        foreach (var queue in dashboard.Monitor.Queues)
        {
            var status = await dashboard.Monitor.GetStatusAsync(queue.Name, context.RequestAborted).ConfigureAwait(false);
            var throughput = dashboard.Throughput.Snapshot(queue.Name);
            var action = !dashboard.CanPause
                ? new HtmlBuilder().Add($"""<span class="muted">This store cannot pause a queue.</span>""").ToFragment()
                : status.Paused
                ? Layout.ActionForm(context, $"{basePath}/queues/{Uri.EscapeDataString(queue.Name)}/resume", "Resume")
                : Layout.ActionForm(context, $"{basePath}/queues/{Uri.EscapeDataString(queue.Name)}/pause", "Pause");
            html.Add($"""
                <tr data-queue="{queue.Name}">
                <th scope="row">{queue.Name}</th>
                <td data-field="state" class="{(status.Paused ? "paused" : "active")}">{(status.Paused ? "Paused" : "Active")}</td>
                <td class="n" data-field="waiting">{Layout.Count(status.Waiting)}</td>
                <td class="n" data-field="scheduled">{Layout.Count(status.Scheduled)}</td>
                <td class="n" data-field="running">{Layout.Count(status.Running)}</td>
                <td class="n" data-field="succeeded">{Layout.Count(throughput.Succeeded)}</td>
                <td class="n" data-field="deadLettered"><a href="{basePath}/dead-letters/{Uri.EscapeDataString(status.DeadLetterQueue)}">{Layout.Count(status.DeadLettered)}</a> <span class="muted">in {status.DeadLetterQueue}</span></td>
                <td><svg class="chart" data-chart="{queue.Name}" viewBox="0 0 240 40" width="240" height="40" role="img" aria-label="Jobs succeeded and attempts failed per second, last minute"></svg></td>
                <td>{action}</td>
                </tr>
                """);
        }

        html.Add($"""
            </tbody>
            </table>
            <p class="muted"><sup>*</sup> Counted by this process since it started, from the queue's meter; with a store shared by several processes, each process's dashboard shows its own. Chart: <span class="legend succeeded">succeeded</span> and <span class="legend failed">failed attempts</span> per second. Waiting, scheduled, running and dead-lettered come from the store and cover every process.</p>
            <p class="muted" id="workers">Workers in this process: {(dashboard.Monitor.WorkersRunning ? "running" : "not running")}.</p>
            """);
        return Layout.Page(context, dashboard, "Queues", html.ToFragment());
    }
}
