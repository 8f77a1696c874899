using AsyncQueue;
using AsyncQueue.Dashboard;
using AsyncQueue.Dashboard.Pages;
using AsyncQueue.Dashboard.Security;
using AsyncQueue.Dashboard.Throughput;
using AsyncQueue.Monitoring;
using AsyncQueue.Recurring;
using AsyncQueue.Storage;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using System.Diagnostics.Metrics;

// MapJobQueueDashboard() sits beside MapGet() and MapHealthChecks(), in the namespace applications already import.
#pragma warning disable IDE0130
namespace Microsoft.AspNetCore.Builder;
#pragma warning restore IDE0130

/// <summary>Maps the job queue's browser dashboard.</summary>
public static class JobQueueDashboardEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the job queue's dashboard at <paramref name="pattern"/>: every queue with its counts and throughput, jobs by
    /// id, dead letters, and pause, resume, cancel, requeue, delete and purge; with recurring jobs registered
    /// (<c>AddRecurringJob</c>), their schedules, paused, resumed, triggered or removed through <see cref="IRecurringJobs"/>.
    /// It reads and acts only through <see cref="IJobQueueMonitor"/>, <see cref="IJobQueue"/> and
    /// <see cref="IDeadLetterQueue"/>, so it works the same over every store.
    /// </summary>
    /// <param name="endpoints">The app (or another endpoint route builder) whose services hold the job queue.</param>
    /// <param name="pattern">Where the dashboard lives, for example <c>/jobs</c>.</param>
    /// <param name="configure">Sets the options, or <see langword="null"/>.</param>
    /// <returns>
    /// The dashboard's endpoints, to require an authorization policy of: <c>.RequireAuthorization("admins")</c>.
    /// Without a policy (here or in <see cref="JobQueueDashboardOptions.AuthorizationPolicy"/>) the dashboard serves
    /// only loopback requests, refuses every other with 403 Forbidden, and says so on the page and in the log.
    /// </returns>
    /// <exception cref="InvalidOperationException">
    /// The app has no job queue (<c>AddJobQueue</c>) or no antiforgery services (<c>AddAntiforgery</c>), which check
    /// every action.
    /// </exception>
    /// <remarks>
    /// Every action is a POST that must carry the page's antiforgery token, and every response carries a strict
    /// Content-Security-Policy: the stylesheet and script are embedded in this assembly, nothing is inline and nothing
    /// comes from another origin.
    /// </remarks>
    public static IEndpointConventionBuilder MapJobQueueDashboard(this IEndpointRouteBuilder endpoints, string pattern = "/jobs", Action<JobQueueDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        var options = new JobQueueDashboardOptions();
        configure?.Invoke(options);
        options.Validate();

        var services = endpoints.ServiceProvider;
        var monitor = services.GetService<IJobQueueMonitor>()
            ?? throw new InvalidOperationException("MapJobQueueDashboard needs the job queue: call builder.Services.AddJobQueue() first.");
        var antiforgery = services.GetService<IAntiforgery>()
            ?? throw new InvalidOperationException("MapJobQueueDashboard checks an antiforgery token on every action: call builder.Services.AddAntiforgery().");
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("AsyncQueue.Dashboard");
        var throughput = new ThroughputRecorder(services.GetService<IMeterFactory>(), services.GetService<TimeProvider>() ?? TimeProvider.System);
        var dashboard = new MappedDashboard(pattern, options, monitor, services.GetRequiredService<IJobQueue>(), services.GetRequiredService<IDeadLetterQueue>(), throughput, services.GetService<IRecurringJobs>(), services.GetRequiredService<IJobStore>().Capabilities);

        var marker = new DashboardEndpointMarker();
        var group = endpoints.MapGroup(pattern).WithMetadata(marker).AddEndpointFilter(new DashboardFilter(logger, dashboard.Pattern)).ExcludeFromDescription();
        DashboardEndpoints.Map(group, dashboard, new Actions(dashboard, antiforgery, logger));
        if (options.AuthorizationPolicy is { } policy)
        {
            group.RequireAuthorization(policy);
        }

        // Once the app has started, every convention (a RequireAuthorization after this call too) is on the endpoints,
        // so the log can say truly whether the dashboard is open to a policy or to loopback only.
        if (services.GetService<IHostApplicationLifetime>() is { } lifetime)
        {
            var dataSources = endpoints.DataSources;
            lifetime.ApplicationStarted.Register(() =>
            {
                var mapped = dataSources.SelectMany(source => source.Endpoints).Where(e => ReferenceEquals(e.Metadata.GetMetadata<DashboardEndpointMarker>(), marker)).ToList();
                if (mapped.All(e => DashboardAccess.HasPolicy(e.Metadata)))
                {
                    Log.PolicyRequired(logger, dashboard.Pattern);
                }
                else
                {
                    Log.LoopbackOnly(logger, dashboard.Pattern);
                }
            });
            lifetime.ApplicationStopped.Register(throughput.Dispose);
        }

        return group;
    }
}
