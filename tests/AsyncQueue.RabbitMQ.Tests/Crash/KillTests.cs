using Xunit.Abstractions;

namespace AsyncQueue.RabbitMQ.Tests.Crash;

/// <summary>
/// A worker process (tests/AsyncQueue.TestWorker) on the broker is killed with SIGKILL mid-run; a second one finishes
/// the queue. The broker redelivers what the dead one held unacked (the jobs it ran and had not acked, and those it
/// had taken ahead and not started), and each of those runs again with a crashed attempt counted (the quorum queue's
/// <c>x-delivery-count</c>).
/// </summary>
[Collection(RabbitMqServerGroup.Name)]
public sealed class KillTests(RabbitMqServer server, ITestOutputHelper output) : IDisposable
{
    private const int Jobs = 5_000;

    private readonly string _folder = Directory.CreateTempSubdirectory("asyncqueue-rabbitmq-kill-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Kill_WorkerMidRun_SecondWorkerRunsEveryJobAndTheCrashedAttemptsAreCounted()
    {
        var killedResults = Path.Combine(_folder, "killed.txt");
        var survivorResults = Path.Combine(_folder, "survivor.txt");

        // The first worker enqueues every job (each batch confirmed) before its workers start, then runs them; each
        // handler records its run, then waits 2 ms before the ack, so the kill finds jobs handled but not acked.
        await using var killed = ChildProcess.Start(Work(killedResults, "--enqueue", Jobs.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        await killed.WaitForMarkerAsync("enqueued");
        await ChildProcess.WaitUntilAsync(() => Task.FromResult(WorkerResults.Read(killedResults).Count >= 500), "the first worker handled 500 jobs", [killed]);
        await killed.KillAsync();
        var beforeKill = WorkerResults.Read(killedResults);
        Assert.True(beforeKill.Count < Jobs, "Every job was handled before the kill; the test proves nothing.");

        await using var survivor = ChildProcess.Start(Work(survivorResults));
        await ChildProcess.WaitUntilAsync(
            () => Task.FromResult(WorkerResults.Read(killedResults).Keys.Union(WorkerResults.Read(survivorResults).Keys).Count() == Jobs),
            "the second worker ran every job the first did not",
            [survivor]);
        await survivor.StopAsync();

        var first = WorkerResults.Read(killedResults);
        var second = WorkerResults.Read(survivorResults);
        var redelivered = second.Where(r => r.Value.Contains(2)).Select(r => r.Key).Order().ToList();
        var duplicates = second.Keys.Where(first.ContainsKey).Order().ToList();
        output.WriteLine(
            $"RabbitMQ, {Jobs:N0} jobs, the worker killed (SIGKILL) after {first.Count:N0} were handled; the survivor ran {second.Count:N0}. " +
            $"Redelivered with the crashed attempt counted (attempt 2): {redelivered.Count} [{string.Join(", ", redelivered)}]; of them already handled before the kill: {duplicates.Count}.");

        var lost = Enumerable.Range(0, Jobs).Where(n => !first.ContainsKey(n) && !second.ContainsKey(n)).ToList();
        Assert.True(lost.Count == 0, $"Jobs never run: {string.Join(", ", lost)}");

        // Only what the dead worker held unacked comes back (at most its prefetch, RabbitMqStoreOptions.PrefetchCount),
        // each as attempt 2, whether it had started or only waited in the dead process: a job the killed worker had
        // handled and not yet acked runs again, never a job it had acked.
        Assert.InRange(redelivered.Count, 1, new RabbitMqStoreOptions().PrefetchCount);
        Assert.All(second.Where(r => !redelivered.Contains(r.Key)), r => Assert.Equal([1], r.Value));
        Assert.All(duplicates, n => Assert.Contains(n, redelivered));
        Assert.All(first.Values, attempts => Assert.Equal([1], attempts));
    }

    private string[] Work(string results, params string[] more) =>
        ["work", "--rabbitmq", server.Uri, "--results", results, "--delay-ms", "2", "--concurrency", "4", "--retries", "1", .. more];
}
