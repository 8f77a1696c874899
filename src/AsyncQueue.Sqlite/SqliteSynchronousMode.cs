namespace AsyncQueue.Sqlite;

/// <summary>How hard a commit is pushed to the disk (SQLite's <c>PRAGMA synchronous</c>, in WAL mode).</summary>
public enum SqliteSynchronousMode
{
    /// <summary>
    /// A committed job survives the process crashing or being killed; a power cut or an operating system crash may undo
    /// the last commits. Much faster: the write-ahead log is synced at checkpoints, not at every commit.
    /// </summary>
    Normal = 0,

    /// <summary>A committed job survives a power cut too: every commit waits for the disk.</summary>
    Full = 1,
}
