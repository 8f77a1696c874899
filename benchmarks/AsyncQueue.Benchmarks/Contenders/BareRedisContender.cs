using System.Text.Json;
using StackExchange.Redis;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// The ceiling of one awaited round trip per job on Redis, not a peer: StackExchange.Redis by hand, with nothing of
/// AsyncQueue. It tells how much of the gap to issue 18's single-enqueue targets is the store's and how much is one
/// confirmed script call per job on this client, server and machine: what it reaches is about the most any client that
/// awaits each enqueue before the next (the store and both peers do) can reach here.
/// </summary>
/// <remarks>
/// The producer: one connection, one awaited <c>EVALSHA</c> per job of a script that is one <c>RPUSH</c> of the job's
/// JSON onto a list, and nothing else (no id, no record, no counter, no wake-up). The consumers: two loops, each on a
/// connection of its own (a blocking command holds its connection), each calling <c>BLMPOP</c> (Redis 7: wait for the
/// list, then pop up to <see cref="Take"/> jobs in one reply) and running the no-op handler on each job it got. Nothing is
/// leased, acknowledged or completed on the server: a popped job is gone, so the consumer side is cheaper than any
/// at-least-once queue's, and the end-to-end figure is a ceiling for the store, not a like-for-like peer.
/// </remarks>
internal sealed class BareRedisContender(string configuration, int workers) : IContender
{
    /// <summary>The most jobs one <c>BLMPOP</c> takes.</summary>
    public const int Take = 100;

    private const string Script = "return redis.call('RPUSH', KEYS[1], ARGV[1])";

    private static readonly RedisKey List = "bare:jobs";

    private readonly List<ConnectionMultiplexer> _consumers = [];
    private readonly List<Task> _loops = [];
    private readonly CancellationTokenSource _stopping = new();
    private ConnectionMultiplexer? _producer;
    private IDatabase? _database;
    private byte[]? _sha1;

    public static string Label => "StackExchange.Redis, bare round trip (ceiling, not a peer)";

    public Completion Completion { get; } = new();

    /// <summary>Connects the producer and loads the script (<c>SCRIPT LOAD</c>), consumers not started.</summary>
    public async Task ConnectAsync()
    {
        _producer = await ConnectionMultiplexer.ConnectAsync(configuration);
        _database = _producer.GetDatabase();
        _sha1 = await _producer.GetServers()[0].ScriptLoadAsync(Script);
    }

    /// <summary>One awaited script call per job with no consumer running: the producer's round trips alone.</summary>
    public async Task ProduceAloneAsync(int jobs)
    {
        for (var i = 0; i < jobs; i++)
        {
            await EnqueueAsync(new Job());
        }
    }

    /// <summary>Empties the list (what <see cref="ProduceAloneAsync"/> left), then starts the consumer loops.</summary>
    public async Task StartAsync()
    {
        await _database!.KeyDeleteAsync(List);
        for (var i = 0; i < workers; i++)
        {
            var connection = await ConnectionMultiplexer.ConnectAsync(configuration);
            _consumers.Add(connection);
            _loops.Add(Task.Run(() => ConsumeAsync(connection.GetDatabase())));
        }
    }

    public ValueTask EnqueueAsync(Job job) =>
        new(_database!.ScriptEvaluateAsync(_sha1!, [List], [JsonSerializer.SerializeToUtf8Bytes(job)]));

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();

        // A loop waits at most the BLMPOP timeout (1 s) before it sees the cancellation.
        await Task.WhenAll(_loops);
        foreach (var connection in _consumers)
        {
            await connection.DisposeAsync();
        }

        if (_producer is { } producer)
        {
            await producer.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private async Task ConsumeAsync(IDatabase database)
    {
        while (!_stopping.IsCancellationRequested)
        {
            // BLMPOP timeout numkeys key LEFT COUNT n: null when the timeout passed, else [key, [job, ...]].
            var reply = await database.ExecuteAsync("BLMPOP", 1, 1, List, "LEFT", "COUNT", Take);
            if (reply.IsNull)
            {
                continue;
            }

            foreach (var job in (RedisResult[])((RedisResult[])reply!)[1]!)
            {
                Completion.Signal(JsonSerializer.Deserialize<Job>((byte[])job!)!);
            }
        }
    }
}
