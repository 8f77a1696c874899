using AsyncQueue.Recurring;
using Microsoft.AspNetCore.Http;

namespace AsyncQueue.Dashboard.Pages;

/// <summary>
/// The recurring schedules' actions, through <see cref="IRecurringJobs"/>: they act on this process only, as the
/// schedules are code that every process registers at start. The endpoint has checked the name, but another request
/// may remove the schedule before the action runs, so a name that has gone is a notice, not an error page.
/// </summary>
internal sealed partial class Actions
{
    public Task<IResult> PauseScheduleAsync(HttpContext context, string name) =>
        RunAsync(context, "pause schedule", name, () => Task.FromResult($"/recurring?done={(SetPaused(name, paused: true) ? Notices.SchedulePaused : Notices.ScheduleGone)}"));

    public Task<IResult> ResumeScheduleAsync(HttpContext context, string name) =>
        RunAsync(context, "resume schedule", name, () => Task.FromResult($"/recurring?done={(SetPaused(name, paused: false) ? Notices.ScheduleResumed : Notices.ScheduleGone)}"));

    public Task<IResult> TriggerAsync(HttpContext context, string name) =>
        RunAsync(context, "trigger", name, async () =>
        {
            try
            {
                await RecurringJobs.TriggerAsync(name, context.RequestAborted).ConfigureAwait(false);
                return $"/recurring?done={Notices.Triggered}";
            }
            catch (KeyNotFoundException)
            {
                return $"/recurring?done={Notices.ScheduleGone}";
            }
        });

    public Task<IResult> RemoveScheduleAsync(HttpContext context, string name) =>
        RunAsync(context, "remove schedule", name, () =>
            Task.FromResult($"/recurring?done={(RecurringJobs.Remove(name) ? Notices.ScheduleRemoved : Notices.ScheduleGone)}"));

    // The endpoints map these actions only to a name IsRecurringJob found, which it finds only when the app has recurring jobs.
    private IRecurringJobs RecurringJobs => dashboard.Recurring ?? throw new InvalidOperationException("The app registers no recurring jobs.");

    private bool SetPaused(string name, bool paused)
    {
        try
        {
            RecurringJobs.SetPaused(name, paused);
            return true;
        }
        catch (KeyNotFoundException)
        {
            return false;
        }
    }
}
