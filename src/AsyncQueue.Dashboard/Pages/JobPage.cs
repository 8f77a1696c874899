using AsyncQueue.Dashboard.Html;
using Microsoft.AspNetCore.Http;

namespace AsyncQueue.Dashboard.Pages;

/// <summary><c>GET {dashboard}/job/{id}</c>: what became of one job (<see cref="Monitoring.IJobQueueMonitor.GetJobAsync"/>), with cancel while it is not finished.</summary>
internal static class JobPage
{
    /// <summary><c>GET {dashboard}/job?id=…</c>, the lookup form's target: on to the job's page, or the form again with what was wrong.</summary>
    public static IResult Lookup(HttpContext context, MappedDashboard dashboard, string? id)
    {
        if (JobId.TryParse(id?.Trim(), out var jobId))
        {
            return Results.Redirect($"{dashboard.BasePath(context)}/job/{jobId}");
        }

        var html = new HtmlBuilder();
        html.Add($"""<p class="error">“{id}” is not a job id: a job id is 32 hexadecimal digits (a GUID), as the enqueue returned it.</p>""");
        return Layout.Page(context, dashboard, "Job lookup", html.ToFragment(), StatusCodes.Status400BadRequest);
    }

    public static async Task<IResult> RenderAsync(HttpContext context, MappedDashboard dashboard, string id)
    {
        var basePath = dashboard.BasePath(context);
        if (!dashboard.KeepsJobStatus)
        {
            return await RenderWithoutStatusAsync(context, dashboard, id).ConfigureAwait(false);
        }

        var job = JobId.TryParse(id, out var jobId) ? await dashboard.Monitor.GetJobAsync(jobId, context.RequestAborted).ConfigureAwait(false) : null;
        var html = new HtmlBuilder();
        if (job is null)
        {
            html.Add($"""<p class="error">No job has the id “{id}”: it never existed, or it finished longer ago than its queue keeps finished jobs.</p>""");
            return Layout.Page(context, dashboard, "Job not found", html.ToFragment(), StatusCodes.Status404NotFound);
        }

        html.Add($"""
            <dl class="facts">
            <dt>Id</dt><dd><code>{job.Id}</code></dd>
            <dt>State</dt><dd id="job-state" class="state {job.State}">{job.State}</dd>
            <dt>Queue</dt><dd>{job.Queue}</dd>
            <dt>Kind</dt><dd>{job.Kind}</dd>
            <dt>Priority</dt><dd>{job.Priority}</dd>
            <dt>Attempts</dt><dd id="job-attempts">{job.Attempt}{(job.MaxAttempts is { } max ? $" of at most {max}" : "")}</dd>
            <dt>Enqueued</dt><dd>{Layout.Time(job.EnqueuedAt)}</dd>
            <dt>Latest start</dt><dd>{Layout.Time(job.StartedAt)}</dd>
            <dt>Finished</dt><dd>{Layout.Time(job.FinishedAt)}</dd>
            <dt>Next run</dt><dd>{Layout.Time(job.NextRunAt)}</dd>
            <dt>Idempotency key</dt><dd>{job.IdempotencyKey ?? "—"}</dd>
            <dt>Cancellation requested</dt><dd>{(job.CancellationRequested ? "yes" : "no")}</dd>
            <dt>Result</dt><dd><code>{job.Result ?? "—"}</code></dd>
            </dl>
            """);
        if (job.State == JobState.DeadLettered)
        {
            html.Add($"""<p>Held in the dead-letter queue <a href="{basePath}/dead-letter/{job.Id}">{job.DeadLetterQueue}</a>: inspect, requeue or delete it there.</p>""");
        }

        if (job.State is JobState.Scheduled or JobState.Waiting or JobState.Running or JobState.Retrying)
        {
            html.Add(Layout.ActionForm(context, $"{basePath}/job/{job.Id}/cancel", "Cancel job", "Cancel this job? A cancelled job is never retried.", "danger"));
        }

        html.Add(Errors.Render(job.Errors));
        return Layout.Page(context, dashboard, $"Job {job.Kind}", html.ToFragment());
    }

    /// <summary>
    /// A store without job status (a broker's) can still find a dead letter by id: the lookup goes there, and otherwise
    /// says why nothing more can be told, instead of calling a job that may be waiting "not found".
    /// </summary>
    private static async Task<IResult> RenderWithoutStatusAsync(HttpContext context, MappedDashboard dashboard, string id)
    {
        if (JobId.TryParse(id, out var jobId) && await dashboard.DeadLetters.GetAsync(jobId, context.RequestAborted).ConfigureAwait(false) is not null)
        {
            return Results.Redirect($"{dashboard.BasePath(context)}/dead-letter/{jobId}");
        }

        var html = new HtmlBuilder();
        html.Add($"""<p class="error">This store keeps no status of its jobs by id, and no dead-letter queue holds a job with the id “{id}”. It may be waiting, running or finished: the queues' counts are on the front page.</p>""");
        return Layout.Page(context, dashboard, "No job status", html.ToFragment(), StatusCodes.Status404NotFound);
    }
}
