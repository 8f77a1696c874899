using System.Threading.RateLimiting;

namespace AsyncQueue.RateLimiting;

/// <summary>
/// A queue's rate limit in this process: the permit a worker waits for between fetching a job and starting it. One
/// <see cref="FixedWindowRateLimiter"/> for the queue, or one per key; each is replenished by a timer of the queue's
/// <see cref="TimeProvider"/> at every window's start (windows counted from the Unix epoch, as the durable stores count
/// them), not by the limiter's own timer, so that fake time drives it in tests.
/// </summary>
internal sealed class RateLimitGate : IAsyncDisposable
{
    private readonly JobRateLimit _limit;
    private readonly FixedWindowRateLimiterOptions _options;
    private readonly FixedWindowRateLimiter? _queueLimiter;

    // Per-key limiters. Looked up, acquired from and evicted under one lock, so a key's limiter is never evicted between
    // a worker's lookup and its acquire (which would let a fresh limiter hand out a second window's worth of permits).
    // AcquireAsync only queues the request under it; the limiter completes waiters asynchronously, never inline.
    private readonly Dictionary<string, FixedWindowRateLimiter> _keyLimiters = new(StringComparer.Ordinal);
    private readonly Lock _keysGate = new();
    private readonly ITimer _replenish;

    public RateLimitGate(JobRateLimit limit, int workers, TimeProvider time)
    {
        _limit = limit;
        _options = new FixedWindowRateLimiterOptions
        {
            PermitLimit = limit.Permits,
            // The limiter skips a manual replenish until its window has passed on the real clock (Stopwatch), which
            // fake time never moves. The windows are timed by the TimeProvider's timer below, so the limiter's own
            // window is one tick: it never holds a replenish back.
            Window = TimeSpan.FromTicks(1),
            AutoReplenishment = false,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,

            // Each of the queue's workers waits for one permit at most: a queue that long is never exceeded.
            QueueLimit = workers,
        };
        _queueLimiter = limit.Key is null ? new FixedWindowRateLimiter(_options) : null;
        var now = time.GetUtcNow();
        var nextWindow = limit.WindowStart(limit.WindowOf(now) + 1) - now;
        _replenish = time.CreateTimer(static state => ((RateLimitGate)state!).Replenish(), this, nextWindow, limit.Period);
    }

    /// <summary>Takes a permit to start <paramref name="job"/> if one is free now (or the job has no key and the limit is per key).</summary>
    public bool TryEnter(object job)
    {
        if (_queueLimiter is { } limiter)
        {
            return limiter.AttemptAcquire(1).IsAcquired;
        }

        if (_limit.Key!(job) is not { } key)
        {
            return true;
        }

        lock (_keysGate)
        {
            return KeyLimiter(key).AttemptAcquire(1).IsAcquired;
        }
    }

    /// <summary>Waits for a permit to start <paramref name="job"/>, in the order the queue's workers asked.</summary>
    /// <returns>A task that completes when the job may start.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    public ValueTask WaitAsync(object job, CancellationToken cancellationToken)
    {
        ValueTask<RateLimitLease> acquire;
        if (_queueLimiter is { } limiter)
        {
            acquire = limiter.AcquireAsync(1, cancellationToken);
        }
        else if (_limit.Key!(job) is not { } key)
        {
            return default;
        }
        else
        {
            lock (_keysGate)
            {
                acquire = KeyLimiter(key).AcquireAsync(1, cancellationToken);
            }
        }

        return WaitSlowAsync(acquire);
    }

    private FixedWindowRateLimiter KeyLimiter(string key)
    {
        if (!_keyLimiters.TryGetValue(key, out var keyLimiter))
        {
            keyLimiter = new FixedWindowRateLimiter(_options);
            _keyLimiters.Add(key, keyLimiter);
        }

        return keyLimiter;
    }

    private static async ValueTask WaitSlowAsync(ValueTask<RateLimitLease> acquire)
    {
        using var lease = await acquire.ConfigureAwait(false);
        if (!lease.IsAcquired)
        {
            // Only a queue longer than the queue's workers (or a disposed limiter at shutdown) refuses a permit.
            throw new OperationCanceledException("The rate limiter refused a permit.");
        }
    }

    /// <summary>A window starts: every limiter is full again, and a key's limiter that nobody used in the last window is dropped.</summary>
    private void Replenish()
    {
        if (_queueLimiter is { } limiter)
        {
            limiter.TryReplenish();
            return;
        }

        List<FixedWindowRateLimiter>? idle = null;
        lock (_keysGate)
        {
            foreach (var (key, keyLimiter) in _keyLimiters)
            {
                if (keyLimiter.GetStatistics() is { CurrentAvailablePermits: var free, CurrentQueuedCount: 0 } && free == _limit.Permits)
                {
                    _keyLimiters.Remove(key);
                    (idle ??= []).Add(keyLimiter);
                }
                else
                {
                    keyLimiter.TryReplenish();
                }
            }
        }

        foreach (var keyLimiter in idle ?? [])
        {
            keyLimiter.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _replenish.DisposeAsync().ConfigureAwait(false);
        _queueLimiter?.Dispose();
        lock (_keysGate)
        {
            foreach (var keyLimiter in _keyLimiters.Values)
            {
                keyLimiter.Dispose();
            }

            _keyLimiters.Clear();
        }
    }
}
