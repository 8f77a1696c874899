using AsyncQueue.Dashboard.Html;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AsyncQueue.Dashboard.Pages;

/// <summary>
/// The dashboard's actions: each a POST whose antiforgery token is checked here, whatever middleware the app runs, then
/// answered with 303 See Other to the page that shows the outcome (so a reload does not repeat it).
/// </summary>
internal sealed partial class Actions(MappedDashboard dashboard, IAntiforgery antiforgery, ILogger logger)
{
    public Task<IResult> PauseAsync(HttpContext context, string queue) =>
        RunAsync(context, "pause", queue, async () =>
        {
            await dashboard.Queue.PauseAsync(queue, context.RequestAborted).ConfigureAwait(false);
            return $"/?done={Notices.Paused}";
        });

    public Task<IResult> ResumeAsync(HttpContext context, string queue) =>
        RunAsync(context, "resume", queue, async () =>
        {
            await dashboard.Queue.ResumeAsync(queue, context.RequestAborted).ConfigureAwait(false);
            return $"/?done={Notices.Resumed}";
        });

    public Task<IResult> CancelAsync(HttpContext context, JobId id) =>
        RunAsync(context, "cancel", id.ToString(), async () =>
        {
            var result = await dashboard.Queue.CancelAsync(id, context.RequestAborted).ConfigureAwait(false);
            var done = result switch
            {
                CancelJobResult.Cancelled => Notices.Cancelled,
                CancelJobResult.CancellationRequested => Notices.CancelRequested,
                CancelJobResult.AlreadyFinished => Notices.AlreadyFinished,
                _ => Notices.NotFound,
            };
            return $"/job/{id}?done={done}";
        });

    public Task<IResult> RequeueAsync(HttpContext context, JobId id) =>
        RunAsync(context, "requeue", id.ToString(), async () =>
            await dashboard.DeadLetters.RequeueAsync(id, context.RequestAborted).ConfigureAwait(false)
                ? $"/job/{id}?done={Notices.Requeued}"
                : $"/job/{id}?done={Notices.Gone}");

    public Task<IResult> DeleteAsync(HttpContext context, JobId id) =>
        RunAsync(context, "delete", id.ToString(), async () =>
        {
            var entry = await dashboard.DeadLetters.GetAsync(id, context.RequestAborted).ConfigureAwait(false);
            var deleted = await dashboard.DeadLetters.DeleteAsync(id, context.RequestAborted).ConfigureAwait(false);
            return entry is not null && deleted
                ? $"/dead-letters/{Uri.EscapeDataString(entry.DeadLetterQueue)}?done={Notices.Deleted}"
                : $"/?done={Notices.Gone}";
        });

    public Task<IResult> RequeueAllAsync(HttpContext context, string deadLetterQueue) =>
        RunAsync(context, "requeue all of", deadLetterQueue, async () =>
        {
            await dashboard.DeadLetters.RequeueAllAsync(deadLetterQueue, context.RequestAborted).ConfigureAwait(false);
            return $"/dead-letters/{Uri.EscapeDataString(deadLetterQueue)}?done={Notices.RequeuedAll}";
        });

    public Task<IResult> PurgeAsync(HttpContext context, string deadLetterQueue) =>
        RunAsync(context, "purge", deadLetterQueue, async () =>
        {
            await dashboard.DeadLetters.PurgeAsync(deadLetterQueue, context.RequestAborted).ConfigureAwait(false);
            return $"/dead-letters/{Uri.EscapeDataString(deadLetterQueue)}?done={Notices.Purged}";
        });

    /// <summary>Checks the antiforgery token, then does the action and redirects to the path it returns (under the dashboard).</summary>
    private async Task<IResult> RunAsync(HttpContext context, string action, string target, Func<Task<string>> act)
    {
        if (!await antiforgery.IsRequestValidAsync(context).ConfigureAwait(false))
        {
            Log.AntiforgeryRefused(logger, dashboard.Pattern, context.Request.Method, action);
            var html = new HtmlBuilder();
            html.Add($"""<p class="error">Refused: the form's antiforgery token is missing or not valid, so this request may not come from the dashboard. Nothing was changed. Reload the page and try again.</p>""");
            return Layout.Page(context, dashboard, "Action refused", html.ToFragment(), StatusCodes.Status400BadRequest);
        }

        string next;
        try
        {
            next = await act().ConfigureAwait(false);
        }
        catch (NotSupportedException ex)
        {
            // The store lacks the capability (a broker's cannot pause or cancel by id): the pages offer no such button,
            // but a form posted by hand gets the job queue's reason, not an error page.
            var refused = new HtmlBuilder();
            refused.Add($"""<p class="error">Not done: {ex.Message}</p>""");
            return Layout.Page(context, dashboard, "Not supported by this store", refused.ToFragment(), StatusCodes.Status501NotImplemented);
        }

        // Who did what, for the audit trail: with a policy the signed-in user, without one whoever was at this machine.
        Log.ActionDone(logger, context.User.Identity?.Name ?? "(anonymous)", context.Connection.RemoteIpAddress?.ToString() ?? "(none)", action, target);
        context.Response.Headers.Location = dashboard.BasePath(context) + next;
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }
}
