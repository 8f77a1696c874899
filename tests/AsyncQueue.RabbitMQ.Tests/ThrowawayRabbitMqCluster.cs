using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace AsyncQueue.RabbitMQ.Tests;

/// <summary>
/// A throwaway RabbitMQ cluster on loopback: several <see cref="ThrowawayRabbitMqServer"/> nodes, each with its own
/// node name, AMQP and distribution ports and folder, joined with <c>rabbitmqctl join_cluster</c>. Killed (SIGKILL)
/// and deleted on dispose.
/// </summary>
/// <remarks>
/// <para>
/// One epmd for the cluster, on a free port of its own (<c>ERL_EPMD_PORT</c>), started here before the nodes: a node
/// finds another by asking the epmd on that port of the other's host, so nodes that each had an epmd of their own
/// could not see each other; and one the cluster owns is one no other test or helper on the machine depends on.
/// </para>
/// <para>
/// One Erlang cookie, random per cluster, written into each node's <c>HOME</c> before it starts (owner read-only, or
/// Erlang refuses it): the nodes and the <c>rabbitmqctl</c> run against any of them then share it. Each node's own
/// random cookie would make every join fail with a bare "nodedown".
/// </para>
/// </remarks>
public sealed class ThrowawayRabbitMqCluster : IAsyncDisposable
{
    private readonly List<ThrowawayRabbitMqServer> _nodes = [];

    private ThrowawayRabbitMqCluster()
    {
    }

    /// <summary>Gets the nodes, the first the one the others joined.</summary>
    public IReadOnlyList<ThrowawayRabbitMqServer> Nodes => _nodes;

    /// <summary>Gets the port of the cluster's epmd.</summary>
    public int EpmdPort { get; } = ThrowawayRabbitMqServer.FreePort();

    /// <summary>Starts <paramref name="size"/> nodes at once, joins every node after the first to it, and checks that all are running in one cluster.</summary>
    public static async Task<ThrowawayRabbitMqCluster> StartAsync(int size)
    {
        var cluster = new ThrowawayRabbitMqCluster();
        try
        {
            await cluster.StartEpmdAsync();
            var cookie = Convert.ToHexString(RandomNumberGenerator.GetBytes(20));
            var starting = Enumerable.Range(0, size).Select(_ => ThrowawayRabbitMqServer.StartClusterNodeAsync(cluster.EpmdPort, cookie)).ToList();
            try
            {
                await Task.WhenAll(starting);
            }
            finally
            {
                // Nodes that started are the cluster's to clean up, even when another failed.
                cluster._nodes.AddRange(starting.Where(s => s.IsCompletedSuccessfully).Select(s => s.Result));
            }

            // One at a time: two nodes joining at once can race on the cluster's membership tables.
            var first = cluster._nodes[0];
            foreach (var node in cluster._nodes.Skip(1))
            {
                await node.CtlAsync("stop_app");
                await node.CtlAsync("join_cluster", first.NodeName);
                await node.CtlAsync("start_app");
            }

            var running = await RunningNodesAsync(first);
            if (!cluster._nodes.Select(n => n.NodeName).Order(StringComparer.Ordinal).SequenceEqual(running.Order(StringComparer.Ordinal)))
            {
                throw new InvalidOperationException($"The cluster did not form: running nodes [{string.Join(", ", running)}], expected [{string.Join(", ", cluster._nodes.Select(n => n.NodeName))}].");
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The nodes of the cluster that <paramref name="node"/> sees running (<c>rabbitmqctl cluster_status</c>).</summary>
    public static async Task<IReadOnlyList<string>> RunningNodesAsync(ThrowawayRabbitMqServer node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var status = await node.CtlAsync("cluster_status", "--formatter", "json");
        using var json = System.Text.Json.JsonDocument.Parse(status);
        return [.. json.RootElement.GetProperty("running_nodes").EnumerateArray().Select(n => n.GetString()!)];
    }

    /// <summary>Gets the node named <paramref name="nodeName"/>.</summary>
    public ThrowawayRabbitMqServer Node(string nodeName) =>
        _nodes.SingleOrDefault(n => n.NodeName == nodeName) ?? throw new InvalidOperationException($"No node {nodeName} in the cluster [{string.Join(", ", _nodes.Select(n => n.NodeName))}].");

    /// <summary>Kills every node (SIGKILL: a throwaway cluster needs no clean stop), then the cluster's epmd, and deletes the nodes' folders.</summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_nodes.Select(n => n.KillAsync()));
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        await ThrowawayRabbitMqServer.KillEpmdAsync(EpmdPort);
    }

    private async Task StartEpmdAsync()
    {
        // -daemon returns once epmd listens, in the background; -kill at dispose stops it.
        using var epmd = Process.Start(ThrowawayRabbitMqServer.Epmd(EpmdPort, "-daemon"))!;
        await epmd.WaitForExitAsync();
        if (epmd.ExitCode != 0)
        {
            var error = await epmd.StandardError.ReadToEndAsync();
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"epmd -daemon on port {EpmdPort} failed ({epmd.ExitCode}): {error}"));
        }
    }
}
