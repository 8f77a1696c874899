using AsyncQueue.Recurring;
using AsyncQueue.Recurring.Scheduling;
using Cronos;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

// AddRecurringJob sits beside AddHandler, on the builder every application already has in scope.
#pragma warning disable IDE0130
namespace AsyncQueue;
#pragma warning restore IDE0130

/// <summary>Registers recurring jobs on an <see cref="IJobQueueBuilder"/>.</summary>
public static class RecurringJobBuilderExtensions
{
    /// <summary>
    /// Enqueues a job at every tick of a cron schedule, in the given time zone. Every process that registers it
    /// enqueues each tick with the idempotency key <c>recurring:{name}:{tick in UTC, ISO 8601}</c>, so a store shared by
    /// several processes accepts exactly one job per tick.
    /// </summary>
    /// <typeparam name="TJob">A job type registered with <c>AddHandler</c>.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The recurring job's unique name, part of every tick's idempotency key.</param>
    /// <param name="cron">A cron expression of five fields (minute to day of week) or six (seconds first), as Cronos reads it.</param>
    /// <param name="job">Makes the job for a tick.</param>
    /// <param name="configure">Sets the time zone, misfire policy and enqueue settings.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The name is empty or taken by another recurring job, the cron expression is invalid, or an option is out of range.</exception>
    /// <remarks>A handler for <typeparamref name="TJob"/> must be registered; the host fails at start with <see cref="JobTypeNotRegisteredException"/> if none is.</remarks>
    public static IJobQueueBuilder AddRecurringJob<TJob>(this IJobQueueBuilder builder, string name, string cron, Func<TJob> job, Action<RecurringJobOptions>? configure = null)
        where TJob : notnull
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(cron);
        ArgumentNullException.ThrowIfNull(job);
        if (builder.Services.Any(d => d.ImplementationInstance is RecurringJobDefinition other && other.Name == name))
        {
            throw new ArgumentException($"A recurring job named '{name}' is registered already; each needs a unique name.", nameof(name));
        }

        var options = new RecurringJobOptions();
        configure?.Invoke(options);
        Validate(name, options);
        var definition = new RecurringJobDefinition(name, cron, Parse(name, cron), typeof(TJob), options, (queue, enqueueOptions, cancellationToken) => queue.EnqueueAsync(job(), enqueueOptions, cancellationToken));

        var services = builder.Services;
        services.AddSingleton(definition);
        services.TryAddSingleton<RecurringScheduler>();
        services.TryAddSingleton<IRecurringJobs>(static sp => sp.GetRequiredService<RecurringScheduler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RecurringScheduler>(static sp => sp.GetRequiredService<RecurringScheduler>()));
        return builder;
    }

    // Five fields as the crontab man page has them; six when seconds come first.
    private static CronExpression Parse(string name, string cron)
    {
        var fields = cron.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        try
        {
            return CronExpression.Parse(cron, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException e)
        {
            throw new ArgumentException($"Recurring job '{name}': '{cron}' is not a valid cron expression ({e.Message}). Give five fields (minute hour day-of-month month day-of-week) or six with seconds first.", nameof(cron), e);
        }
    }

    private static void Validate(string name, RecurringJobOptions options)
    {
        if (options.TimeZone is null)
        {
            throw new ArgumentException($"Recurring job '{name}': RecurringJobOptions.TimeZone must not be null; leave it at TimeZoneInfo.Utc or give a zone from TimeZoneInfo.FindSystemTimeZoneById.", nameof(options));
        }

        if (options.Misfire is not (RecurringMisfirePolicy.Skip or RecurringMisfirePolicy.FireOnceNow))
        {
            throw new ArgumentException($"Recurring job '{name}': RecurringJobOptions.Misfire must be Skip or FireOnceNow, but was {options.Misfire}.", nameof(options));
        }

        if (options.MisfireThreshold < TimeSpan.Zero || options.MisfireThreshold > TimeSpan.FromDays(1))
        {
            throw new ArgumentException($"Recurring job '{name}': RecurringJobOptions.MisfireThreshold must be from zero to one day, but was {options.MisfireThreshold}.", nameof(options));
        }

        if (options.Enqueue is { IdempotencyKey: not null } or { NotBefore: not null })
        {
            throw new ArgumentException($"Recurring job '{name}': RecurringJobOptions.Enqueue must not set IdempotencyKey or NotBefore; each tick sets its own key and time.", nameof(options));
        }
    }
}
