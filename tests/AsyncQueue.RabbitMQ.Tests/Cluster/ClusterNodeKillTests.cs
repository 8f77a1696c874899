using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace AsyncQueue.RabbitMQ.Tests.Cluster;

/// <summary>
/// A three-node RabbitMQ cluster on loopback (<see cref="ThrowawayRabbitMqCluster"/>): the queue is a quorum queue
/// with a member on each node; jobs are enqueued with publisher confirms while workers run them, and the node that
/// leads the queue is killed with SIGKILL mid-run. The store, given every node (<see cref="RabbitMqStoreOptions.Endpoints"/>),
/// reconnects to a survivor, and every job the broker confirmed still runs.
/// </summary>
/// <remarks>
/// In the shared broker's collection only so that it never runs beside the other RabbitMQ tests: four Erlang nodes at
/// once are too many for a small machine. It does not use that broker.
/// </remarks>
[Collection(RabbitMqServerGroup.Name)]
public sealed class ClusterNodeKillTests(ITestOutputHelper output)
{
    private const int Jobs = 3_000;
    private const int Batch = 50;
    private const int Concurrency = 8;
    private const int KillAfterRuns = 600;

    /// <summary>Kills the queue's leader mid-run.</summary>
    /// <param name="clientOnLeader">
    /// <see langword="true"/>: the store, given all three nodes, declares the queue, so the leader is on the node it is
    /// connected to (RabbitMQ 3.10 places a quorum queue's leader client-local), and the kill also cuts the store's
    /// connection: it reconnects to a survivor and resumes consuming there. <see langword="false"/>: the queue is declared
    /// first through the first node, which leads it, and the store is given only the other two, so its connection
    /// survives and only the queue's leadership moves.
    /// </param>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task KillLeaderNode_MidRun_EveryConfirmedJobRunsOnTheSurvivors(bool clientOnLeader)
    {
        // Durations are printed for the record, never asserted.
        var clock = Stopwatch.StartNew();
        await using var cluster = await ThrowawayRabbitMqCluster.StartAsync(3);
        var formed = clock.Elapsed;
        var queue = RabbitMqServer.NewQueue();
        var runs = new ClusterRuns();
        if (!clientOnLeader)
        {
            await DeclareQuorumQueueAsync(cluster.Nodes[0], queue);
        }

        var storeNodes = clientOnLeader ? cluster.Nodes : cluster.Nodes.Skip(1).ToList();

        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(runs);
        builder.Services.AddJobQueue()
            .AddHandler<ClusterJob, ClusterJobHandler>(queue, q =>
            {
                q.MaxConcurrency = Concurrency;

                // A job redelivered after the kill counts its lost attempt; enough retries that none is dead-lettered for it.
                q.Retry = new Retry.RetryPolicy { MaxRetries = 10, Delay = TimeSpan.FromMilliseconds(100) };
            })
            .UseRabbitMq(storeNodes[0].Uri, o =>
            {
                foreach (var node in storeNodes.Skip(1))
                {
                    o.Endpoints.Add(string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{node.Port}"));
                }
            });
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            // The quorum queue has a member on every node; its leader is where the store declared it (client-local).
            var (leader, members) = await QueueLeaderAsync(cluster.Nodes[0], queue);
            Assert.Equal(cluster.Nodes.Select(n => n.NodeName).Order(StringComparer.Ordinal), members.Order(StringComparer.Ordinal));
            var clientNode = await ClientNodeAsync(cluster);
            Assert.Equal(clientOnLeader, clientNode == leader);

            var jobs = host.Services.GetRequiredService<IJobQueue>();
            var leaderNode = cluster.Node(leader);
            var confirmed = new ConcurrentDictionary<int, bool>();
            var unconfirmed = new ConcurrentDictionary<int, bool>();
            var failedBatches = 0;
            Task? kill = null;
            (int Confirmed, int Ran) atKill = default;
            var killedAt = TimeSpan.Zero;
            var producer = Task.Run(async () =>
            {
                var next = 0;
                while (confirmed.Count < Jobs)
                {
                    if (kill is null && confirmed.Count >= Jobs / 2)
                    {
                        // Mid-run: half the jobs confirmed, the workers busy with them. The kill is not awaited before the
                        // next batch, so publishes may be in flight to the dying node, or sent while the store reconnects.
                        await Poll.UntilAsync(() => runs.Count >= KillAfterRuns, $"{KillAfterRuns} jobs ran before the kill");
                        atKill = (confirmed.Count, runs.Count);
                        killedAt = clock.Elapsed;
                        kill = Task.Run(leaderNode.KillAsync);
                    }

                    var numbers = Enumerable.Range(next, Math.Min(Batch, Jobs - confirmed.Count)).ToList();
                    next += numbers.Count;
                    try
                    {
                        await jobs.EnqueueBatchAsync(numbers.Select(n => new ClusterJob(n)));
                        numbers.ForEach(n => confirmed[n] = true);
                    }
#pragma warning disable CA1031 // Any failure of a batch while a node dies: its jobs are not confirmed, and the next batch tries again.
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        numbers.ForEach(n => unconfirmed[n] = true);
                        if (Interlocked.Increment(ref failedBatches) is var failed and (1 or 10 or 100 or 1000))
                        {
                            output.WriteLine($"Enqueue failed (batch {failed}): {ex.GetType().Name}: {ex.Message.Split('\n')[0]}");
                        }

                        // While the store reconnects to a surviving node; a pause, not a measurement.
                        await Task.Delay(100);
                    }
                }
            });

            await producer.WaitAsync(TimeSpan.FromMinutes(3));
            await kill!;
            Assert.True(atKill.Confirmed < Jobs, $"The kill came after all {atKill.Confirmed} jobs were confirmed: not mid-enqueue.");
            await Poll.UntilAsync(() => confirmed.Keys.All(runs.Ran), "every confirmed job ran", limitSeconds: 180);
            var done = clock.Elapsed;

            var (newLeader, _) = await QueueLeaderAsync(cluster.Nodes.First(n => n != leaderNode), queue);
            var survivors = await ThrowawayRabbitMqCluster.RunningNodesAsync(cluster.Nodes.First(n => n != leaderNode));
            var snapshot = runs.Snapshot();
            var duplicates = snapshot.Where(r => r.Value.Count > 1).OrderBy(r => r.Key).ToList();
            var redelivered = snapshot.Where(r => r.Value.Any(a => a > 1)).Select(r => r.Key).ToList();
            var unconfirmedRan = unconfirmed.Keys.Count(snapshot.ContainsKey);
            output.WriteLine(
                $"Client on the leader: {clientOnLeader}. 3-node cluster formed in {formed.TotalSeconds:0.0} s. Quorum queue {queue}: members [{string.Join(", ", members)}], leader {leader}; the store was connected to {clientNode}.");
            output.WriteLine(
                $"Killed {leader} (SIGKILL) after {atKill.Ran:N0} runs, with {atKill.Confirmed:N0} of {Jobs:N0} jobs confirmed. " +
                $"New leader {newLeader}; running nodes [{string.Join(", ", survivors)}]. All {confirmed.Count:N0} confirmed jobs ran {(done - killedAt).TotalSeconds:0.0} s after the kill.");
            output.WriteLine(
                $"Enqueue batches that failed (not confirmed, their jobs not counted): {failedBatches} ({unconfirmed.Count} jobs, {unconfirmedRan} of which ran anyway). " +
                $"Redelivered (attempt > 1): {redelivered.Count}. Ran twice or more (duplicates): {duplicates.Count} [{string.Join(", ", duplicates.Select(d => $"{d.Key}: attempts {string.Join('/', d.Value)}"))}].");

            Assert.DoesNotContain(leader, survivors);
            Assert.Equal(2, survivors.Count);
            Assert.NotEqual(leader, newLeader);

            // A job ran twice only when the broker redelivered it: it was in flight (delivered, not yet settled) when the
            // node died, and its second run counts the lost attempt (attempt 2 or more), never a job whose run was settled.
            Assert.All(duplicates, d => Assert.True(d.Value.Skip(1).All(a => a > 1), $"Job {d.Key} ran again as a first attempt: {string.Join('/', d.Value)}"));
            Assert.All(snapshot, r => Assert.Equal(r.Value.Count, r.Value.Distinct().Count()));
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Declares the queue as the store would (a durable quorum queue) through <paramref name="node"/>, which then leads it.</summary>
    private static async Task DeclareQuorumQueueAsync(ThrowawayRabbitMqServer node, string queue)
    {
        var factory = new global::RabbitMQ.Client.ConnectionFactory { Uri = new Uri(node.Uri) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
    }

    /// <summary>The queue's leader and members, as a running node reports them (<c>rabbitmqctl list_queues name leader members</c>).</summary>
    private static async Task<(string Leader, IReadOnlyList<string> Members)> QueueLeaderAsync(ThrowawayRabbitMqServer node, string queue)
    {
        var json = await node.CtlAsync("list_queues", "name", "leader", "members", "--formatter", "json");
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var entry = document.RootElement.EnumerateArray().Single(q => q.GetProperty("name").GetString() == queue);
        return (entry.GetProperty("leader").GetString()!, [.. entry.GetProperty("members").EnumerateArray().Select(m => m.GetString()!)]);
    }

    /// <summary>The node the store's connection is on: the one whose AMQP port it connected to (<c>rabbitmqctl list_connections port</c>).</summary>
    private static async Task<string> ClientNodeAsync(ThrowawayRabbitMqCluster cluster)
    {
        var ports = (await cluster.Nodes[0].CtlAsync("list_connections", "port", "--quiet", "--no-table-headers"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(", ", ports.Select(p => cluster.Nodes.Single(n => n.Port.ToString(CultureInfo.InvariantCulture) == p).NodeName));
    }
}

/// <summary>The cluster test's job.</summary>
[JobKind("rabbit-cluster-test")]
public sealed record ClusterJob(int Number);

/// <summary>Records each run, then takes a moment, so that the kill finds jobs delivered and not yet settled.</summary>
public sealed class ClusterJobHandler(ClusterRuns runs) : IJobHandler<ClusterJob>
{
    public async Task HandleAsync(ClusterJob job, JobContext context, CancellationToken cancellationToken)
    {
        runs.Add(job.Number, context.Attempt);
        await Task.Delay(TimeSpan.FromMilliseconds(2), cancellationToken);
    }
}

/// <summary>Every run of every cluster job, by number: the attempts it ran as.</summary>
public sealed class ClusterRuns
{
    private readonly ConcurrentDictionary<int, ConcurrentQueue<int>> _runs = new();
    private int _count;

    /// <summary>Gets how many runs there were, repeats included.</summary>
    public int Count => Volatile.Read(ref _count);

    public void Add(int number, int attempt)
    {
        _runs.GetOrAdd(number, _ => new ConcurrentQueue<int>()).Enqueue(attempt);
        Interlocked.Increment(ref _count);
    }

    public bool Ran(int number) => _runs.ContainsKey(number);

    public Dictionary<int, List<int>> Snapshot() => _runs.ToDictionary(r => r.Key, r => r.Value.ToList());
}
