using AsyncQueue.Dashboard.Pages;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AsyncQueue.Dashboard;

/// <summary>
/// The dashboard's routes, under the group it is mapped at. Pages are GETs; every action is a POST (checked for its
/// antiforgery token by <see cref="Actions"/>). Every parameter arrives as text and is checked by the page: a binding
/// failure would answer 400 before the endpoint filter ran, so even to a refused remote request, and without the
/// security headers; this way a bad id or name gets the dashboard's own 404 page.
/// </summary>
internal static class DashboardEndpoints
{
    public static void Map(RouteGroupBuilder group, MappedDashboard dashboard, Actions actions)
    {
        group.MapGet("/", Handler(context => OverviewPage.RenderAsync(context, dashboard)));
        group.MapGet("/api/queues", Handler(context => QueuesJson.RenderAsync(context, dashboard)));
        group.MapGet("/assets/{name}", (HttpContext context, string name) => DashboardAssets.Serve(context, name));

        group.MapGet("/job", (HttpContext context, string? id) => JobPage.Lookup(context, dashboard, id));
        group.MapGet("/job/{id}", (HttpContext context, string id) => JobPage.RenderAsync(context, dashboard, id));
        group.MapPost("/job/{id}/cancel", (HttpContext context, string id) =>
            JobId.TryParse(id, out var jobId) ? actions.CancelAsync(context, jobId) : NotFoundAsync(context, dashboard, "No job has this id."));

        group.MapPost("/queues/{queue}/pause", (HttpContext context, string queue) =>
            dashboard.IsQueue(queue) ? actions.PauseAsync(context, queue) : NotFoundAsync(context, dashboard, "No queue has this name."));
        group.MapPost("/queues/{queue}/resume", (HttpContext context, string queue) =>
            dashboard.IsQueue(queue) ? actions.ResumeAsync(context, queue) : NotFoundAsync(context, dashboard, "No queue has this name."));

        group.MapGet("/dead-letters/{name}", (HttpContext context, string name, string? page) => DeadLettersPage.RenderAsync(context, dashboard, name, page));
        group.MapPost("/dead-letters/{name}/requeue-all", (HttpContext context, string name) =>
            dashboard.IsDeadLetterQueue(name) ? actions.RequeueAllAsync(context, name) : NotFoundAsync(context, dashboard, "No configured queue uses this dead-letter queue."));
        group.MapPost("/dead-letters/{name}/purge", (HttpContext context, string name) =>
            dashboard.IsDeadLetterQueue(name) ? actions.PurgeAsync(context, name) : NotFoundAsync(context, dashboard, "No configured queue uses this dead-letter queue."));

        group.MapGet("/recurring", Handler(context => RecurringPage.RenderAsync(context, dashboard)));
        group.MapPost("/recurring/{name}/pause", (HttpContext context, string name) =>
            dashboard.IsRecurringJob(name) ? actions.PauseScheduleAsync(context, name) : NotFoundAsync(context, dashboard, "No recurring job has this name."));
        group.MapPost("/recurring/{name}/resume", (HttpContext context, string name) =>
            dashboard.IsRecurringJob(name) ? actions.ResumeScheduleAsync(context, name) : NotFoundAsync(context, dashboard, "No recurring job has this name."));
        group.MapPost("/recurring/{name}/trigger", (HttpContext context, string name) =>
            dashboard.IsRecurringJob(name) ? actions.TriggerAsync(context, name) : NotFoundAsync(context, dashboard, "No recurring job has this name."));
        group.MapPost("/recurring/{name}/remove", (HttpContext context, string name) =>
            dashboard.IsRecurringJob(name) ? actions.RemoveScheduleAsync(context, name) : NotFoundAsync(context, dashboard, "No recurring job has this name."));

        group.MapGet("/dead-letter/{id}", (HttpContext context, string id) => DeadLetterPage.RenderAsync(context, dashboard, id));
        group.MapPost("/dead-letter/{id}/requeue", (HttpContext context, string id) =>
            JobId.TryParse(id, out var jobId) ? actions.RequeueAsync(context, jobId) : NotFoundAsync(context, dashboard, "No dead letter has this id."));
        group.MapPost("/dead-letter/{id}/delete", (HttpContext context, string id) =>
            JobId.TryParse(id, out var jobId) ? actions.DeleteAsync(context, jobId) : NotFoundAsync(context, dashboard, "No dead letter has this id."));
    }

    /// <summary>
    /// As a route handler, whose <see cref="IResult"/> is executed: a lambda that takes only the context would bind as
    /// a <see cref="RequestDelegate"/>, which discards it.
    /// </summary>
    private static Delegate Handler(Func<HttpContext, Task<IResult>> handler) => handler;

    private static Task<IResult> NotFoundAsync(HttpContext context, MappedDashboard dashboard, string message)
    {
        var html = new Html.HtmlBuilder();
        html.Add($"""<p class="error">{message} Nothing was changed.</p>""");
        return Task.FromResult(Layout.Page(context, dashboard, "Not found", html.ToFragment(), StatusCodes.Status404NotFound));
    }
}
