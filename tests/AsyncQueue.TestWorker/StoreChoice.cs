namespace AsyncQueue.TestWorker;

/// <summary>
/// The store a child runs on: <c>--sqlite FILE</c>, or <c>--postgres CONNECTION-STRING</c> with <c>--schema NAME</c>.
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
        Lease = TimeSpan.FromMilliseconds(args.Int("lease-ms", 2_000));
        FetchBatch = args.Int("fetch-batch", 256);
        if ((SqliteFile is null) == (PostgresConnection is null))
        {
            throw new ArgumentException("Name one store: --sqlite FILE or --postgres CONNECTION-STRING.");
        }
    }

    public string? SqliteFile { get; }

    public string? PostgresConnection { get; }

    public string? Schema { get; }

    public TimeSpan Lease { get; }

    public int FetchBatch { get; }

    public string Name => SqliteFile is not null ? "SQLite file store" : "PostgreSQL store";

    public static StoreChoice From(Arguments args) => new(args);

    /// <summary>Puts the queue on the chosen store; with short leases a killed child's jobs are rescued within about <see cref="Lease"/>.</summary>
    public void Use(IJobQueueBuilder queue, bool shortLeases, string? schema = null)
    {
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
