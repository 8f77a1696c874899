namespace AsyncQueue.TestWorker;

/// <summary>
/// The store a child runs on: <c>--sqlite FILE</c>, <c>--postgres CONNECTION-STRING</c> with <c>--schema NAME</c>, or
/// <c>--redis CONFIGURATION</c> with <c>--prefix NAME</c>.
/// <c>--lease-ms N</c> sets the lease (the heartbeat is a quarter of it) and <c>--fetch-batch N</c> the most jobs leased
/// by one query.
/// </summary>
internal sealed class StoreChoice
{
    private StoreChoice(Arguments args)
    {
        SqliteFile = args.Find("sqlite");
        PostgresConnection = args.Find("postgres");
        Schema = args.Find("schema");
        RedisConfiguration = args.Find("redis");
        RabbitMqUri = args.Find("rabbitmq");
        Prefix = args.Find("prefix");
        Lease = TimeSpan.FromMilliseconds(args.Int("lease-ms", 2_000));
        FetchBatch = args.Int("fetch-batch", 256);
        if (new[] { SqliteFile, PostgresConnection, RedisConfiguration, RabbitMqUri }.Count(s => s is not null) != 1)
        {
            throw new ArgumentException("Name one store: --sqlite FILE, --postgres CONNECTION-STRING, --redis CONFIGURATION or --rabbitmq URI.");
        }
    }

    public string? SqliteFile { get; }

    public string? PostgresConnection { get; }

    public string? Schema { get; }

    public string? RedisConfiguration { get; }

    public string? Prefix { get; }

    /// <summary>Gets the RabbitMQ broker's AMQP URI (<c>--rabbitmq</c>): the broker holds the jobs; it has no leases to shorten.</summary>
    public string? RabbitMqUri { get; }

    public TimeSpan Lease { get; }

    public int FetchBatch { get; }

    public string Name => SqliteFile is not null ? "SQLite file store" : PostgresConnection is not null ? "PostgreSQL store" : RedisConfiguration is not null ? "Redis store" : "RabbitMQ store";

    public static StoreChoice From(Arguments args) => new(args);

    /// <summary>Puts the queue on the chosen store; with short leases a killed child's jobs are rescued within about <see cref="Lease"/>.</summary>
    public void Use(IJobQueueBuilder queue, bool shortLeases, string? schema = null)
    {
        if (RabbitMqUri is not null)
        {
            queue.UseRabbitMq(RabbitMqUri);
            return;
        }

        if (RedisConfiguration is not null)
        {
            // The schema of a throughput run is the Redis key prefix.
            queue.UseRedis(RedisConfiguration, options =>
            {
                options.FetchBatchSize = FetchBatch;
                if ((schema ?? Prefix) is { } prefix)
                {
                    options.KeyPrefix = prefix;
                }

                if (shortLeases)
                {
                    options.LeaseDuration = Lease;
                    options.HeartbeatInterval = Lease / 4;
                    options.SweepInterval = TimeSpan.FromMilliseconds(200);
                    options.PollInterval = TimeSpan.FromMilliseconds(100);
                }
            });
            return;
        }

        if (SqliteFile is not null)
        {
            queue.UseSqlite($"Data Source={SqliteFile}", options =>
            {
                options.FetchBatchSize = FetchBatch;
                if (shortLeases)
                {
                    options.LeaseDuration = Lease;
                    options.HeartbeatInterval = Lease / 4;
                    options.SweepInterval = TimeSpan.FromMilliseconds(200);
                    options.PollInterval = TimeSpan.FromMilliseconds(100);
                }
            });
            return;
        }

        queue.UsePostgreSql(PostgresConnection!, options =>
        {
            options.FetchBatchSize = FetchBatch;
            if ((schema ?? Schema) is { } name)
            {
                options.Schema = name;
            }

            if (shortLeases)
            {
                options.LeaseDuration = Lease;
                options.HeartbeatInterval = Lease / 4;
                options.SweepInterval = TimeSpan.FromMilliseconds(200);
                options.PollInterval = TimeSpan.FromMilliseconds(100);
            }
        });
    }
}
