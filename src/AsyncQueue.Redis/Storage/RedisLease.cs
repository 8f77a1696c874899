namespace AsyncQueue.Redis.Storage;

/// <summary>
/// What the store attaches to a record it hands out (<see cref="AsyncQueue.Storage.JobRecord.StoreData"/>): the queue,
/// the job's id as stored and the fencing token of this attempt's lease. Every later write about the attempt is a script
/// that first checks the token.
/// </summary>
/// <param name="Store">The store that leased the job.</param>
/// <param name="Queue">The queue it was leased from.</param>
/// <param name="Id">The job's id as stored (its hash key's last part).</param>
/// <param name="Token">The lease's fencing token, from the queue's <c>INCR</c> counter.</param>
/// <param name="TakenOver">Whether the lease was taken over from an expired one, for the dispatcher's rescue rather than for a worker.</param>
internal sealed record RedisLease(RedisJobStore Store, RedisQueue Queue, string Id, long Token, bool TakenOver = false)
{
    private int _taken;

    /// <summary>Gets whether a worker of this process took the job; until then a job leased ahead has not started, and its status reads waiting.</summary>
    public bool Taken => Volatile.Read(ref _taken) == 1;

    public void MarkTaken() => Volatile.Write(ref _taken, 1);
}
