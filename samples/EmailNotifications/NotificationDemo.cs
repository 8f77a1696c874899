using AsyncQueue;
using AsyncQueue.Monitoring;
using AsyncQueue.Retry;
using EmailNotifications.Email;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EmailNotifications;

/// <summary>
/// The sample's work: start a host with a 5-worker <c>emails</c> queue (3 retries, exponential backoff, dead letters
/// to <c>failed-emails</c>), enqueue every notification with its idempotency key (one of them twice), wait until each
/// is sent or dead-lettered, then print how each ended, a summary and the dead-letter queue.
/// </summary>
/// <remarks>
/// With <see cref="DemoOptions.RabbitMqUri"/> the queue runs on RabbitMQ (<c>UseRabbitMq</c>), with the same handler,
/// retries and dead-letter queue. The broker keeps no idempotency keys and no job status, so there the sample refuses
/// the double click itself and reports how each job ended from its <see cref="DeliveryBoard"/>.
/// </remarks>
public static class NotificationDemo
{
    /// <summary>The queue the notifications run on.</summary>
    public const string Queue = "emails";

    /// <summary>The dead-letter queue that receives notifications that fail for good.</summary>
    public const string DeadLetterQueue = "failed-emails";

    /// <summary>How many emails are sent at once: the queue's <see cref="QueueOptions.MaxConcurrency"/>.</summary>
    public const int Workers = 5;

    /// <summary>How many times a failed send is retried.</summary>
    public const int MaxRetries = 3;

    /// <summary>The delay before the first retry; it doubles for each later one (200, 400, 800 ms, plus up to 20% jitter). Short for the demo.</summary>
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>Runs the sample.</summary>
    /// <param name="options">The pickup folder and the flaky transport's settings.</param>
    /// <param name="output">Where the lines go.</param>
    /// <param name="cancellationToken">Stops waiting for the notifications.</param>
    /// <returns>What happened.</returns>
    public static async Task<DemoReport> RunAsync(DemoOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var board = new DeliveryBoard(output);
        var pickup = Directory.CreateDirectory(options.PickupFolder).FullName;

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(options.Verbose ? LogLevel.Information : LogLevel.Warning);
        if (!options.Verbose)
        {
            // The board prints a line for every attempt; the queue's own log says the same with stack traces, for operators.
            builder.Logging.AddFilter("AsyncQueue", LogLevel.None);
        }

        builder.Services.AddSingleton(board);
        builder.Services.AddSingleton<IDeadLetterObserver>(board);

        // The one line to change for a real provider: register your IEmailSender instead.
        builder.Services.AddSingleton<IEmailSender>(services =>
        {
            var pickupSender = new PickupFolderEmailSender(pickup, services.GetRequiredService<TimeProvider>());
            IEmailSender transport = options.FailureRate > 0
                ? new FlakyEmailSender(pickupSender, options.Seed, options.FailureRate, maxFailuresPerEmail: MaxRetries - 1)
                : pickupSender;

            // One recipient's mail server is down for the whole run, whatever the transport: its retries run out.
            return new OutageEmailSender(transport, OutageEmailSender.DefaultDownDomain);
        });

        var onRabbitMq = options.RabbitMqUri is not null;
        var jobQueue = builder.Services.AddJobQueue()
            .AddHandler<SendNotification, SendNotificationHandler>(Queue, queue =>
            {
                queue.MaxConcurrency = Workers;

                // The report below asks every job how it ended; the in-memory store keeps finished statuses only when asked.
                if (!onRabbitMq)
                {
                    queue.FinishedJobCapacity = 1_000;
                }

                // RetryPolicy.Exponential(MaxRetries, FirstRetryDelay) with a seeded Random for the jitter, wrapped so
                // that the board prints each retry's delay.
                queue.Retry = new ReportingRetryPolicy(
                    new RetryPolicy
                    {
                        MaxRetries = MaxRetries,
                        Backoff = RetryBackoff.Exponential,
                        Delay = FirstRetryDelay,
                        Random = new Random(options.Seed),
                    },
                    board);
                queue.DeadLetterQueue = DeadLetterQueue;
            });
        if (options.RabbitMqUri is { } uri)
        {
            // The same queue on a broker: 'emails' a quorum queue, retries waiting in its delay queues, and the failures
            // dead-lettered by the broker's dead-letter exchange into the 'failed-emails' queue.
            jobQueue.UseRabbitMq(uri);
        }

        using var host = builder.Build();
        await host.StartAsync(cancellationToken);
        var enqueues = new List<(SendNotification, EnqueueResult)>();
        IReadOnlyList<(SendNotification, JobInfo)> outcomes;
        IReadOnlyList<DeadLetterEntry> deadLetters;
        try
        {
            board.Output.WriteLine(
                $"Sending {DemoNotifications.All.Count} notifications ({DemoNotifications.Clicks.Count} enqueues, one a double click) with {Workers} workers, " +
                $"{MaxRetries} retries from {FirstRetryDelay.TotalMilliseconds:0} ms, dead letters to '{DeadLetterQueue}'.");
            board.Output.WriteLine(options.FailureRate > 0
                ? $"Flaky transport: {options.FailureRate:0%} of sends fail first (seed {options.Seed}). Pickup folder: {pickup}"
                : $"Reliable transport. Pickup folder: {pickup}");
            board.Output.WriteLine($"The mail server of {OutageEmailSender.DefaultDownDomain} is down for the whole run: its email uses up its retries.");
            if (onRabbitMq)
            {
                board.Output.WriteLine($"Store: RabbitMQ at {Redact(options.RabbitMqUri!)} (quorum queue '{Queue}', dead letters through the broker's dead-letter exchange into '{DeadLetterQueue}').");
            }

            var jobs = host.Services.GetRequiredService<IJobQueue>();
            var enqueued = new Dictionary<string, JobId>(StringComparer.Ordinal);
            foreach (var notification in DemoNotifications.Clicks)
            {
                if (onRabbitMq)
                {
                    // RabbitMQ keeps no idempotency keys (an enqueue with one throws NotSupportedException), so on the broker
                    // the sample refuses a notification it enqueued already in this run. Unlike a store's key, this guard
                    // lives in one process only.
                    if (enqueued.TryGetValue(notification.NotificationId, out var first))
                    {
                        enqueues.Add((notification, new EnqueueResult(first, EnqueueStatus.Duplicate)));
                        board.SkippedAgain(notification, first);
                        continue;
                    }

                    var sent = await jobs.EnqueueAsync(notification, cancellationToken: cancellationToken);
                    enqueued[notification.NotificationId] = sent.JobId;
                    enqueues.Add((notification, sent));
                    board.Enqueued(notification, sent);
                    continue;
                }

                var result = await jobs.EnqueueAsync(notification, new EnqueueOptions { IdempotencyKey = notification.IdempotencyKey }, cancellationToken);
                enqueues.Add((notification, result));
                if (result.Accepted)
                {
                    board.Enqueued(notification, result);
                }
                else
                {
                    board.Duplicate(notification, result);
                }
            }

            var accepted = enqueues.Where(e => e.Item2.Accepted).Select(e => (e.Item1, e.Item2.JobId)).ToList();
            if (onRabbitMq)
            {
                var ended = await board.WaitUntilEndedAsync([.. accepted.Select(a => a.JobId)], cancellationToken);
                outcomes = [.. accepted.Select((a, i) => (a.Item1, ended[i]))];
            }
            else
            {
                outcomes = await WaitUntilEndedAsync(host.Services.GetRequiredService<IJobQueueMonitor>(), accepted, cancellationToken);
            }

            // On a broker, 'failed-emails' outlives the run and may hold the dead letters of earlier runs: the report
            // lists this run's own.
            var ids = accepted.Select(a => a.JobId).ToHashSet();
            deadLetters = [.. (await host.Services.GetRequiredService<IDeadLetterQueue>().ListAsync(DeadLetterQueue, cancellationToken: cancellationToken)).Where(e => ids.Contains(e.JobId))];
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }

        var report = new DemoReport(enqueues, outcomes, deadLetters, pickup);
        PrintSummary(board.Output, report, onRabbitMq);
        return report;
    }

    /// <summary>
    /// Waits until every job has ended (sent or dead-lettered), and returns how each ended, as the queue reports it.
    /// </summary>
    /// <remarks>
    /// <see cref="IJobQueueMonitor.WaitUntilEmptyAsync"/>, not <see cref="IJobQueueMonitor.WaitForIdleAsync"/>: a failed
    /// email waiting for its retry is scheduled, not due, and the in-memory store drops scheduled jobs when the host stops.
    /// </remarks>
    private static async Task<IReadOnlyList<(SendNotification, JobInfo)>> WaitUntilEndedAsync(
        IJobQueueMonitor monitor, List<(SendNotification Notification, JobId Id)> jobs, CancellationToken cancellationToken)
    {
        await monitor.WaitUntilEmptyAsync(Queue, cancellationToken);
        var ended = new List<(SendNotification, JobInfo)>();
        foreach (var (notification, id) in jobs)
        {
            // Kept for a day (QueueOptions.FinishedJobRetention, up to the FinishedJobCapacity set above), so a status
            // cannot be gone minutes later.
            var job = await monitor.GetJobAsync(id, cancellationToken)
                ?? throw new InvalidOperationException($"The queue has no status for job {id} ({notification.NotificationId}).");
            ended.Add((notification, job));
        }

        return ended;
    }

    /// <summary>The URI without its password, for the console.</summary>
    private static string Redact(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.UserInfo.Contains(':', StringComparison.Ordinal)
            ? new UriBuilder(parsed) { Password = "***" }.Uri.ToString()
            : uri;

    private static void PrintSummary(TextWriter output, DemoReport report, bool onRabbitMq)
    {
        output.WriteLine();
        output.WriteLine(onRabbitMq
            ? "How each notification ended (as the handler and the dead-letter observer saw it: RabbitMQ keeps no job status):"
            : "How each notification ended (IJobQueueMonitor.GetJobAsync):");
        foreach (var (notification, job) in report.Outcomes)
        {
            output.WriteLine(job.State switch
            {
                JobState.Succeeded => $"  {notification.NotificationId,-24} {job.State} on attempt {job.Attempt} → {job.Result}",
                JobState.DeadLettered => $"  {notification.NotificationId,-24} {job.State} to '{job.DeadLetterQueue}' after {job.Attempt} attempt(s)",
                _ => $"  {notification.NotificationId,-24} {job.State} after {job.Attempt} attempt(s)",
            });
        }

        output.WriteLine();
        output.WriteLine(
            $"Summary: {report.Sent} sent, {report.Retried} retried ({report.Retries} retries), {report.DeadLetters.Count} dead-lettered, " +
            $"{report.Duplicates} duplicate enqueue(s) ignored. Emails: {report.PickupFolder}");
        output.WriteLine($"Dead-letter queue '{DeadLetterQueue}': {report.DeadLetters.Count} entr{(report.DeadLetters.Count == 1 ? "y" : "ies")}");
        foreach (var entry in report.DeadLetters)
        {
            var job = (SendNotification)entry.Job;
            output.WriteLine($"  job {entry.JobId} ({entry.Kind}) {job.NotificationId} to '{job.RecipientEmail}', {entry.Attempts} attempt(s), dead-lettered at {entry.DeadLetteredAt:u}");
            foreach (var error in entry.Errors)
            {
                output.WriteLine($"    attempt {error.Attempt}: {error.ExceptionType}: {error.Message}");
            }
        }
    }
}
