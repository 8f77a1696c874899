using System.Threading.Channels;
using AsyncQueue.Sqlite.Diagnostics;
using Microsoft.Data.Sqlite;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>
/// The checkpointer: copies the write-ahead log back into the database file on its own connection and thread, so the
/// writer's commits never wait for the disk syncs a checkpoint makes. The writer checkpoints itself only as a backstop,
/// when the log passes <see cref="SqliteSchema.BackstopCheckpointPages"/> pages (the checkpointer fell behind).
/// </summary>
internal sealed partial class SqliteJobStore
{
    private const int CommitsPerCheckpoint = 64;

    // At most one request waits: a checkpoint copies everything committed before it starts.
    private readonly Channel<bool> _checkpoints = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private SqliteConnection? _checkpointer;
    private Task _checkpointLoop = Task.CompletedTask;
    private int _commitsSinceCheckpoint;

    private void StartCheckpointer(string connectionString)
    {
        _checkpointer = SqliteSchema.Open(connectionString, _options.Synchronous, createSchema: false);
        _checkpointLoop = Task.Run(RunCheckpointerAsync);
    }

    /// <summary>Called by the writer loop after each commit.</summary>
    private void CountCommit()
    {
        if (++_commitsSinceCheckpoint >= CommitsPerCheckpoint)
        {
            _commitsSinceCheckpoint = 0;
            _checkpoints.Writer.TryWrite(true);
        }
    }

    private async Task RunCheckpointerAsync()
    {
        await foreach (var _ in _checkpoints.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                // PASSIVE: copies what it can without waiting for the writer or for readers.
                SqliteSchema.Execute(_checkpointer!, "PRAGMA wal_checkpoint(PASSIVE);");
            }
#pragma warning disable CA1031 // A failed checkpoint loses nothing (the log keeps every commit); the writer's backstop checkpoints.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                SqliteLog.OperationFailed(_logger, ex, "checkpoint");
            }
        }
    }

    private async Task StopCheckpointerAsync()
    {
        _checkpoints.Writer.TryComplete();
        await _checkpointLoop.ConfigureAwait(false);
        _checkpointer?.Dispose();
    }
}
