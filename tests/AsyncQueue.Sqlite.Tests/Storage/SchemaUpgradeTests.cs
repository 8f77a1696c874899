using AsyncQueue.Storage;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>A file made by an older AsyncQueue.Sqlite is upgraded in place when the store opens it; one made by a newer one is refused.</summary>
public sealed class SchemaUpgradeTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    // The tables as schema version 1 made them, before isolated suspects and recorded starts.
    private const string Version1Schema = """
        CREATE TABLE IF NOT EXISTS asyncqueue_meta (
            key TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO asyncqueue_meta (key, value) VALUES ('schema_version', 1), ('fence', 0);

        CREATE TABLE IF NOT EXISTS asyncqueue_jobs (
            seq INTEGER PRIMARY KEY,
            id BLOB NOT NULL,
            queue TEXT NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT,
            state INTEGER NOT NULL,
            run_at INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            max_attempts INTEGER,
            enqueued_at INTEGER NOT NULL,
            idempotency_key TEXT,
            key_held INTEGER NOT NULL,
            key_expires INTEGER,
            errors TEXT,
            lease_token INTEGER,
            lease_expires INTEGER,
            trace_parent TEXT,
            trace_state TEXT
        );
        CREATE UNIQUE INDEX IF NOT EXISTS asyncqueue_jobs_key ON asyncqueue_jobs (idempotency_key) WHERE key_held = 1;
        CREATE INDEX IF NOT EXISTS asyncqueue_jobs_due ON asyncqueue_jobs (queue, run_at) WHERE state = 0;
        CREATE INDEX IF NOT EXISTS asyncqueue_jobs_leases ON asyncqueue_jobs (lease_expires) WHERE state = 1;
        CREATE INDEX IF NOT EXISTS asyncqueue_jobs_retained ON asyncqueue_jobs (key_expires) WHERE state = 2;

        CREATE TABLE IF NOT EXISTS asyncqueue_dead_letters (
            seq INTEGER PRIMARY KEY,
            id BLOB NOT NULL,
            dead_letter_queue TEXT NOT NULL,
            queue TEXT NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT,
            attempt INTEGER NOT NULL,
            max_attempts INTEGER,
            enqueued_at INTEGER NOT NULL,
            dead_lettered_at INTEGER NOT NULL,
            idempotency_key TEXT,
            errors TEXT,
            trace_parent TEXT,
            trace_state TEXT
        );
        CREATE UNIQUE INDEX IF NOT EXISTS asyncqueue_dead_letters_id ON asyncqueue_dead_letters (id);
        CREATE INDEX IF NOT EXISTS asyncqueue_dead_letters_queue ON asyncqueue_dead_letters (dead_letter_queue, seq);

        CREATE TABLE IF NOT EXISTS asyncqueue_dead_letter_queues (
            name TEXT PRIMARY KEY,
            retention INTEGER NOT NULL,
            capacity INTEGER NOT NULL
        ) WITHOUT ROWID;
        """;

    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Open_Version1File_AddsIsolationColumnsAndKeepsItsJobs()
    {
        _database.Scalar(Version1Schema);
        _database.InsertRawJob(BareStore.Queue, "sqlite-test-job", """{"Number":4}""", Start);

        await using var store = BareStore.Open(_database, new FakeTimeProvider(Start));

        Assert.Equal(4, _database.Scalar("SELECT value FROM asyncqueue_meta WHERE key = 'schema_version'"));
        Assert.Equal([0L, 0L], _database.Rows("SELECT isolated, started FROM asyncqueue_jobs").Single());
        var job = await store.FetchAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(new SqliteTestJob(4), job.Job);
        Assert.Equal(1, job.Attempt);
        Assert.False(job.Isolated);
    }

    [Fact]
    public async Task Open_Version2File_AddsOperationsColumnsSwapsTheDueIndexAndKeepsJobsAndKeys()
    {
        // Version 2: version 1 with the isolated and started columns.
        _database.Scalar(Version1Schema + """
            ALTER TABLE asyncqueue_jobs ADD COLUMN isolated INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE asyncqueue_jobs ADD COLUMN started INTEGER NOT NULL DEFAULT 0;
            UPDATE asyncqueue_meta SET value = 2 WHERE key = 'schema_version';
            """);
        _database.InsertRawJob(BareStore.Queue, "sqlite-test-job", """{"Number":5}""", Start);
        var keyHolder = Guid.NewGuid();
        _database.Scalar($"""
            INSERT INTO asyncqueue_jobs (id, queue, kind, payload, state, run_at, attempt, enqueued_at, idempotency_key, key_held, key_expires)
            VALUES (X'{Convert.ToHexString(keyHolder.ToByteArray())}', '{BareStore.Queue}', 'sqlite-test-job', NULL, 2, {Start.AddMinutes(-1).UtcTicks}, 1, {Start.AddMinutes(-2).UtcTicks}, 'kept-key', 1, {Start.AddDays(1).UtcTicks})
            """);

        await using var store = BareStore.Open(_database, new FakeTimeProvider(Start));

        Assert.Equal(4, _database.Scalar("SELECT value FROM asyncqueue_meta WHERE key = 'schema_version'"));
        Assert.Equal(0, _database.Scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'asyncqueue_jobs_due'"));
        Assert.Equal(1, _database.Scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'asyncqueue_jobs_fetch'"));
        var job = await store.FetchAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal((new SqliteTestJob(5), JobPriority.Normal), (job.Job, job.Priority));

        var kept = await store.Store.GetJobAsync(new JobId(keyHolder), CancellationToken.None);
        Assert.Equal((JobState.Succeeded, Start.AddMinutes(-1)), (kept!.State, kept.FinishedAt!.Value));
        Assert.Equal(EnqueueStatus.Duplicate, (await store.Store.EnqueueAsync(BareStore.Job(6, Start, key: "kept-key"), CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Open_Version3File_AddsContinuationColumnsAndKeepsItsJobs()
    {
        // Version 3: version 2 with the operations columns (the 2 -> 3 upgrade, as that version ran it).
        _database.Scalar(Version1Schema + """
            ALTER TABLE asyncqueue_jobs ADD COLUMN isolated INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE asyncqueue_jobs ADD COLUMN started INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE asyncqueue_jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
            ALTER TABLE asyncqueue_jobs ADD COLUMN started_at INTEGER;
            ALTER TABLE asyncqueue_jobs ADD COLUMN finished_at INTEGER;
            ALTER TABLE asyncqueue_jobs ADD COLUMN result TEXT;
            ALTER TABLE asyncqueue_jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE asyncqueue_dead_letters ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
            CREATE TABLE asyncqueue_queues (name TEXT PRIMARY KEY, paused INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
            UPDATE asyncqueue_meta SET value = 3 WHERE key = 'schema_version';
            """);
        _database.InsertRawJob(BareStore.Queue, "sqlite-test-job", """{"Number":7}""", Start);
        var parentId = new JobId(new Guid((byte[])_database.Rows("SELECT id FROM asyncqueue_jobs").Single()[0]!));

        await using var store = BareStore.Open(_database, new FakeTimeProvider(Start));

        Assert.Equal(4, _database.Scalar("SELECT value FROM asyncqueue_meta WHERE key = 'schema_version'"));
        Assert.Equal([null, 0L, 0L], _database.Rows("SELECT parent_id, on_parent_failure, parent_failed FROM asyncqueue_jobs").Single());

        // The old row is a parent like any other: its continuation waits for it, then runs.
        var child = BareStore.Job(8, Start);
        child = new JobRecord(child.Id, child.Kind, child.Queue, child.Job, Start) { ParentId = parentId };
        await store.Store.EnqueueContinuationAsync(child, CancellationToken.None);
        Assert.Equal(JobState.AwaitingParent, (await store.Store.GetJobAsync(child.Id, CancellationToken.None))!.State);
        var parent = await store.FetchAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(new SqliteTestJob(7), parent.Job);
        await store.Store.CompleteAsync(parent, CancellationToken.None);
        var released = await store.FetchAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal((new SqliteTestJob(8), parentId), (released.Job, released.ParentId!.Value));
        Assert.False(released.ParentFailed);
    }

    [Fact]
    public async Task Open_FileOfNewerSchema_FailsNamingTheVersions()
    {
        await using (BareStore.Open(_database, new FakeTimeProvider(Start)))
        {
        }

        _database.Scalar("UPDATE asyncqueue_meta SET value = 5 WHERE key = 'schema_version'");

        var error = Assert.Throws<InvalidOperationException>(() => BareStore.Open(_database, new FakeTimeProvider(Start)));
        Assert.Contains("schema version 5, this one knows 4", error.Message, StringComparison.Ordinal);
    }
}
