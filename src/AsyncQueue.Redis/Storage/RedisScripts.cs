namespace AsyncQueue.Redis.Storage;

/// <summary>
/// The store's Lua scripts: every operation is one script, so Redis runs it whole, with nothing in between. Each takes
/// one key, <c>KEYS[1]</c>, the queue's base <c>{prefix:queue}</c>, and touches only keys that start with it (the same
/// hash tag, so one Cluster slot). Times are Unix milliseconds except the job's own enqueue and due times, which are
/// kept as exact .NET ticks in strings (Lua numbers are doubles) and never computed with.
/// </summary>
/// <remarks>
/// Keys, under base <c>B</c>: <c>B:job:ID</c> (a hash per job), <c>B:ready</c> (due jobs, by priority then sequence),
/// <c>B:iso</c> (due isolated jobs), <c>B:scheduled</c> (by due time), <c>B:leased</c> (by lease expiry),
/// <c>B:finished</c> (succeeded and cancelled, by finish time), <c>B:keys</c> (idempotency key to job id),
/// <c>B:keyexp</c> (retained keys by expiry), <c>B:dead:NAME</c> (a dead-letter queue's entries from this queue, in
/// order), <c>B:deadqueues</c> (each dead-letter queue's retention and capacity), <c>B:seq</c>, <c>B:fence</c> (counters),
/// <c>B:paused</c>, <c>B:rate</c> (a rate-limited queue's count of its current window), <c>B:children:ID</c> (the continuations still awaiting job ID, a set); the channel <c>B:wake</c>.
/// A continuation awaiting its parents has state <c>awaiting</c>, its parents' ids (<c>parents</c>), how many have yet to
/// succeed (<c>pending</c>), its policy (<c>onpf</c>), its own due time in ms (<c>duems</c>) and, once a parent failed,
/// <c>pfail</c>; it is in none of the sets a lease or a count reads until a parent's settlement releases it.
/// <para>
/// Optional fields: a job's hash leaves out a field whose value is what a missing field reads as, so the hot path writes
/// fewer: <c>attempt</c> (0), <c>prio</c> (1, normal), <c>max</c>, <c>key</c>, <c>errors</c>, <c>tp</c>, <c>ts</c>,
/// <c>result</c> (empty), <c>iso</c>, <c>started</c>, <c>cancel</c> (not '1'). Every reader, here and in
/// <see cref="RedisJobStore"/>, reads a missing field so, and always has: the stored layout did not change (hashes written
/// with every field read the same, and an older store reads these), so there is no layout version to move. The field
/// <c>lease</c> (a lease's expiry), which no version of the store ever read, is no longer written: the expiry is the
/// score in <c>B:leased</c>, the one place it is read.
/// </para>
/// </remarks>
internal static class RedisScripts
{
    // Shared by the scripts that need them; each script is loaded on its own, so they are prepended as text.
    private const string Prelude = """
        local b = KEYS[1]
        local function num(x) return string.format('%.0f', x) end
        local function jobkey(id) return b .. ':job:' .. id end
        local function ready_add(id, at)
          local jk = jobkey(id)
          local seq = redis.call('INCR', b .. ':seq')
          redis.call('HSET', jk, 'rdy', num(at))
          if redis.call('HGET', jk, 'iso') == '1' then
            redis.call('ZADD', b .. ':iso', num(at), id)
          else
            local prio = tonumber(redis.call('HGET', jk, 'prio')) or 1
            redis.call('ZADD', b .. ':ready', num((3 - prio) * 1099511627776 + seq), id)
          end
          redis.call('HSET', jk, 'state', 'waiting')
        end
        local function free_key(id)
          local key = redis.call('HGET', jobkey(id), 'key')
          if key and key ~= '' and redis.call('HGET', b .. ':keys', key) == id then
            redis.call('HDEL', b .. ':keys', key)
            redis.call('ZREM', b .. ':keyexp', key)
          end
        end
        local function zmany(cmd, key, args)
          for i = 1, #args, 4000 do
            redis.call(cmd, key, unpack(args, i, math.min(i + 3999, #args)))
          end
        end
        local function delmany(keys)
          for i = 1, #keys, 4000 do
            redis.call('DEL', unpack(keys, i, math.min(i + 3999, #keys)))
          end
        end
        local function held(id, token)
          local f = redis.call('HMGET', jobkey(id), 'state', 'token')
          return f[1] == 'leased' and f[2] == token
        end
        local function trim_finished(now, retention, capacity)
          local fin = b .. ':finished'
          local old = redis.call('ZRANGE', fin, '-inf', num(now - retention), 'BYSCORE')
          if #old > 0 then
            local keys = {}
            for i, id in ipairs(old) do keys[i] = jobkey(id) end
            delmany(keys)
            zmany('ZREM', fin, old)
          end
          local over = redis.call('ZCARD', fin) - capacity
          if over > 0 then
            local popped = redis.call('ZPOPMIN', fin, over)
            local keys = {}
            for i = 1, #popped, 2 do keys[#keys + 1] = jobkey(popped[i]) end
            delmany(keys)
            return over
          end
          return 0
        end
        local function finish(id, state, now, retention, capacity)
          local jk = jobkey(id)
          redis.call('ZREM', b .. ':leased', id)
          if retention > 0 and capacity > 0 then
            redis.call('HSET', jk, 'state', state, 'fin', num(now), 'payload', '')
            redis.call('ZADD', b .. ':finished', num(now), id)
            return trim_finished(now, retention, capacity)
          end
          redis.call('DEL', jk)
          return 0
        end
        -- In the script that settles a parent: its continuations count one parent fewer (ok), due at zero (at their own
        -- time if later), or are made due as failed. One SMEMBERS of a missing key when it has none.
        local function settle_children(parent, ok, now)
          local ck = b .. ':children:' .. parent
          local kids = redis.call('SMEMBERS', ck)
          if #kids == 0 then return end
          redis.call('DEL', ck)
          for _, id in ipairs(kids) do
            local jk = jobkey(id)
            if redis.call('HGET', jk, 'state') == 'awaiting' then
              if not ok then
                redis.call('HSET', jk, 'pfail', '1', 'pending', '0')
                ready_add(id, now)
              elseif redis.call('HINCRBY', jk, 'pending', -1) <= 0 then
                local due = tonumber(redis.call('HGET', jk, 'duems')) or 0
                if due > now then
                  redis.call('HSET', jk, 'state', 'scheduled')
                  redis.call('ZADD', b .. ':scheduled', num(due), id)
                else
                  ready_add(id, now)
                end
              end
            end
          end
          redis.call('PUBLISH', b .. ':wake', '1')
        end
        local function evict_dead(dlq, now, retention, capacity)
          local set = b .. ':dead:' .. dlq
          local out = {}
          local over = redis.call('ZCARD', set) - capacity
          if over > 0 then
            local popped = redis.call('ZPOPMIN', set, over)
            for i = 1, #popped, 2 do
              local jk = jobkey(popped[i])
              out[#out + 1] = popped[i]; out[#out + 1] = redis.call('HGET', jk, 'kind') or ''; out[#out + 1] = 'c'
              redis.call('DEL', jk)
            end
          end
          while true do
            local first = redis.call('ZRANGE', set, 0, 0)
            if #first == 0 then break end
            local jk = jobkey(first[1])
            local at = tonumber(redis.call('HGET', jk, 'dlat'))
            if at ~= nil and at > now - retention then break end
            out[#out + 1] = first[1]; out[#out + 1] = redis.call('HGET', jk, 'kind') or ''; out[#out + 1] = 'r'
            redis.call('ZREM', set, first[1])
            redis.call('DEL', jk)
          end
          return out
        end

        """;

    /// <summary>
    /// Accepts jobs: ARGV now, capacity (-1: unbounded), throw (1: all or nothing when full), count, origin (the calling
    /// process's wake-up message), then per job id, kind, payload, enqueued ticks, due ticks ('': the enqueued ticks), due
    /// ms, key, n, and n name and value pairs of the optional fields that differ from their defaults (attempt, max,
    /// errors, tp, ts, prio). Claims each idempotency key in the same step (freeing a retained key past its time).
    /// Returns {stored, the queue's sequence after this call (see <see cref="WakeSignal"/>), then the index (from 0) and
    /// the key's holder of each duplicate}; {-1} when a throwing queue is full.
    /// </summary>
    /// <remarks>
    /// The hot path: one HSET per job (of the fields that differ from their default, see the optional fields above), the
    /// sequence numbers taken in one INCRBY and the ready set written in one ZADD per call; 8 arguments for a plain job,
    /// and nothing in the reply for an accepted one. The wake-up is published only when it can wake someone: the ready
    /// set was empty (every process with an idle worker emptied it at its last fetch; one that found it non-empty since
    /// then leases again at once) or a delayed job may fall due sooner than the fetch loops sleep. Its message is the
    /// caller's origin, which the caller's own subscription ignores (it woke its fetch loop itself); any other process
    /// reads every message but <c>pause</c> as a wake-up, as it always has.
    /// </remarks>
    public static readonly RedisScript Enqueue = new("enqueue", Prelude + """
        local now = tonumber(ARGV[1])
        local cap = tonumber(ARGV[2])
        local count = tonumber(ARGV[4])
        local rk = b .. ':ready'
        local waiting = redis.call('ZCARD', rk)
        local room = nil
        if cap >= 0 then
          room = cap - waiting - redis.call('ZCARD', b .. ':iso')
          if ARGV[3] == '1' then
            local due = 0
            local o = 6
            for i = 0, count - 1 do
              if tonumber(ARGV[o + 5]) <= now then due = due + 1 end
              o = o + 8 + 2 * tonumber(ARGV[o + 7])
            end
            if due > room then return {-1} end
            room = nil
          end
        end
        local last = redis.call('INCRBY', b .. ':seq', count)
        local seq = last - count
        -- One HSET argument list, refilled per job.
        local h = {'', 'id', '', 'kind', '', 'payload', '', 'enq', '', 'runat', '', 'state', '', 'rdy', num(now)}
        local ready = {}
        local delayed = false
        local out = {0, last}
        local stored = 0
        local o = 6
        for i = 0, count - 1 do
          local id = ARGV[o]
          local due = tonumber(ARGV[o + 5])
          local key = ARGV[o + 6]
          local n = tonumber(ARGV[o + 7])
          if room ~= nil and due <= now and room <= 0 then break end
          local holder = false
          if key ~= '' then
            holder = redis.call('HGET', b .. ':keys', key)
            if holder then
              local exp = redis.call('ZSCORE', b .. ':keyexp', key)
              if exp and tonumber(exp) <= now then
                redis.call('HDEL', b .. ':keys', key)
                redis.call('ZREM', b .. ':keyexp', key)
                holder = false
              end
            end
          end
          if holder then
            out[#out + 1] = i
            out[#out + 1] = holder
          else
            if key ~= '' then redis.call('HSET', b .. ':keys', key, id) end
            -- The fields every job has, then those that differ from what a missing field reads as (optional fields, above).
            local enq = ARGV[o + 3]
            local runat = ARGV[o + 4]
            if runat == '' then runat = enq end
            h[1] = jobkey(id); h[3] = id; h[5] = ARGV[o + 1]; h[7] = ARGV[o + 2]; h[9] = enq; h[11] = runat
            h[13] = due <= now and 'waiting' or 'scheduled'
            local m = 16
            local prio = 1
            if key ~= '' then h[m] = 'key'; h[m + 1] = key; m = m + 2 end
            for j = o + 8, o + 7 + 2 * n, 2 do
              h[m] = ARGV[j]; h[m + 1] = ARGV[j + 1]; m = m + 2
              if ARGV[j] == 'prio' then prio = tonumber(ARGV[j + 1]) or 1 end
            end
            redis.call('HSET', unpack(h, 1, m - 1))
            if due <= now then
              -- As ready_add, for a fresh job (never isolated): ordered by priority, then by sequence. ('rdy' of a
              -- delayed job is set again when it moves to ready.)
              seq = seq + 1
              ready[#ready + 1] = num((3 - prio) * 1099511627776 + seq)
              ready[#ready + 1] = id
              if room ~= nil then room = room - 1 end
            else
              delayed = true
              redis.call('ZADD', b .. ':scheduled', num(due), id)
            end
          end
          stored = stored + 1
          o = o + 8 + 2 * n
        end
        zmany('ZADD', rk, ready)
        out[1] = stored
        if (#ready > 0 and waiting == 0) or delayed then redis.call('PUBLISH', b .. ':wake', ARGV[5]) end
        return out
        """);

    /// <summary>
    /// Accepts a continuation: ARGV now, then one job's id, kind, payload, attempt, max, enqueued ticks, due ticks, due ms,
    /// key, errors, traceparent, tracestate and priority, its policy if a parent fails
    /// (0 cancel, 1 dead-letter), then its parents' ids (distinct; all on this queue). A parent dead-lettered or
    /// cancelled makes it due as failed (pfail); all succeeded makes it due (or scheduled); otherwise it awaits, in the
    /// children set of each parent still to settle. Returns {'A'}, or {'N', id} when no job of this queue has that id.
    /// </summary>
    public static readonly RedisScript Continue = new("continue", Prelude + """
        local now = tonumber(ARGV[1])
        local id = ARGV[2]
        local pending = {}
        local failed = false
        for i = 16, #ARGV do
          local state = redis.call('HGET', jobkey(ARGV[i]), 'state')
          if not state then return {'N', ARGV[i]} end
          if state == 'cancelled' or state == 'dead' then
            failed = true
          elseif state ~= 'succeeded' then
            pending[#pending + 1] = ARGV[i]
          end
        end
        local parents = {}
        for i = 16, #ARGV do parents[#parents + 1] = ARGV[i] end
        local due = tonumber(ARGV[9])
        redis.call('HSET', jobkey(id), 'id', id, 'kind', ARGV[3], 'payload', ARGV[4], 'attempt', ARGV[5],
          'max', ARGV[6], 'enq', ARGV[7], 'runat', ARGV[8], 'key', '', 'errors', ARGV[11],
          'tp', ARGV[12], 'ts', ARGV[13], 'prio', ARGV[14], 'iso', '0', 'started', '0', 'cancel', '0',
          'parents', table.concat(parents, ','), 'onpf', ARGV[15], 'pfail', failed and '1' or '0', 'duems', num(due))
        if failed then
          ready_add(id, now)
        elseif #pending == 0 then
          if due <= now then
            ready_add(id, now)
          else
            redis.call('HSET', jobkey(id), 'state', 'scheduled')
            redis.call('ZADD', b .. ':scheduled', num(due), id)
          end
        else
          redis.call('HSET', jobkey(id), 'state', 'awaiting', 'pending', #pending)
          for _, parent in ipairs(pending) do redis.call('SADD', b .. ':children:' .. parent, id) end
          return {'A'}
        end
        redis.call('PUBLISH', b .. ':wake', '1')
        return {'A'}
        """);

    /// <summary>
    /// Hands out a leased job (see <see cref="RedisJobStore"/>'s reader): appends to <c>out</c> its id, how many values
    /// follow, then the name and value of each field of its <c>HGETALL</c> that a record is built from. One HGETALL reads
    /// only the fields the hash has (7 for a plain job), where an HMGET of every field a record may need named 18.
    /// </summary>
    private const string HandOut = """
        local handed = {kind = true, payload = true, attempt = true, max = true, enq = true, runat = true, key = true,
          errors = true, tp = true, ts = true, prio = true, iso = true, started = true, cancel = true, parents = true,
          onpf = true, pfail = true}
        local function hand_out(out, id, f)
          local c = #out + 2
          out[c - 1] = id
          local m = c
          for j = 1, #f, 2 do
            if handed[f[j]] then out[m + 1] = f[j]; out[m + 2] = f[j + 1]; m = m + 2 end
          end
          out[c] = m - c
        end

        """;

    /// <summary>
    /// Leases due jobs: ARGV now, lease expiry, how many, whether an isolated job may be leased; for a queue with a shared
    /// rate limit also the window's index, its permits, its end (ms) and the period (ms). Moves due scheduled jobs to
    /// ready first. Returns {-1} when paused; else {token, next due ms (0: none, or as many leased as asked for with ready
    /// jobs left and the window, if any, not used up), the queue's sequence when this lease emptied the ready set (-1: it did not; every
    /// enqueue that left a sequence up to it had run, and its due jobs are leased), then each leased job as
    /// <c>hand_out</c> puts it}.
    /// </summary>
    /// <remarks>
    /// A rate-limited queue's count is the hash <c>B:rate</c> (<c>w</c>, the newest window counted; <c>used</c>, how many
    /// jobs were leased in it), read and raised here with the lease, so no two processes lease the same permits. It
    /// expires a period after its window ends (an idle queue leaves nothing behind), a relative expiry because the
    /// processes' clocks (fake ones in tests) need not be Redis's. A process whose clock reading is older than the window
    /// counted (it read the time, then its script waited while the window turned) finds it full, and never moves it back.
    /// A used-up window returns its end as the next due time (or the next delayed job's, if later): the fetch loop sleeps
    /// until then.
    /// </remarks>
    public static readonly RedisScript Fetch = new("fetch", Prelude + HandOut + """
        if redis.call('EXISTS', b .. ':paused') == 1 then return {-1} end
        local now = tonumber(ARGV[1])
        local want = tonumber(ARGV[3])
        local due = redis.call('ZRANGE', b .. ':scheduled', '-inf', num(now), 'BYSCORE', 'LIMIT', 0, 1000, 'WITHSCORES')
        for i = 1, #due, 2 do
          redis.call('ZREM', b .. ':scheduled', due[i])
          if redis.call('EXISTS', jobkey(due[i])) == 1 then ready_add(due[i], tonumber(due[i + 1])) end
        end
        local rate_w = ARGV[5] and tonumber(ARGV[5])
        local rate_used = 0
        if rate_w then
          local counted = redis.call('HMGET', b .. ':rate', 'w', 'used')
          local counted_w = tonumber(counted[1]) or -1
          if counted_w > rate_w then rate_used = tonumber(ARGV[6])
          elseif counted_w == rate_w then rate_used = tonumber(counted[2]) or 0 end
          local left = tonumber(ARGV[6]) - rate_used
          if left <= 0 then return {0, tonumber(ARGV[7])} end
          if want > left then want = left end
        end
        local ids = {}
        -- An isolated job goes first when it became due before the next ordinary job, else with the demand left over.
        local iso = nil
        if ARGV[4] == '1' then
          local first = redis.call('ZRANGE', b .. ':iso', 0, 0, 'WITHSCORES')
          if #first > 0 then
            iso = first[1]
            local head = redis.call('ZRANGE', b .. ':ready', 0, 0)
            if #head == 0 or tonumber(first[2]) < (tonumber(redis.call('HGET', jobkey(head[1]), 'rdy')) or 0) then
              redis.call('ZREM', b .. ':iso', iso)
              ids[1] = iso
              iso = nil
            end
          end
        end
        local emptied = false
        if want - #ids > 0 then
          local asked = want - #ids
          local popped = redis.call('ZPOPMIN', b .. ':ready', asked)
          for i = 1, #popped, 2 do ids[#ids + 1] = popped[i] end
          emptied = #popped / 2 < asked or redis.call('ZCARD', b .. ':ready') == 0
        end
        if iso ~= nil and #ids < want then
          redis.call('ZREM', b .. ':iso', iso)
          ids[#ids + 1] = iso
        end
        -- Not emptied while an isolated job waits (this lease had no room for it, or no right to the isolated place):
        -- the loop must lease again when a worker asks, not sleep as if nothing were left.
        if emptied and redis.call('ZCARD', b .. ':iso') > 0 then emptied = false end
        local out = {0, 0, -1}
        if emptied then out[3] = tonumber(redis.call('GET', b .. ':seq')) or 0 end
        if #ids < want or emptied then
          local nxt = redis.call('ZRANGE', b .. ':scheduled', 0, 0, 'WITHSCORES')
          if #nxt > 0 then out[2] = tonumber(nxt[2]) end
        end
        if #ids == 0 then return out end
        local token = redis.call('INCR', b .. ':fence')
        out[1] = token
        local leased = {}
        for _, id in ipairs(ids) do
          local jk = jobkey(id)
          -- One read and one write per job: the fields, then the lease (attempt + 1, as HINCRBY would).
          local f = redis.call('HGETALL', jk)
          if #f > 0 then
            local attempt, at, st = 1, nil, nil
            for j = 1, #f, 2 do
              local k = f[j]
              if k == 'attempt' then
                at = j + 1
                attempt = (tonumber(f[at]) or 0) + 1
              elseif k == 'started' then
                st = j + 1
              end
            end
            attempt = tostring(attempt)
            if st and f[st] == '1' then
              redis.call('HSET', jk, 'attempt', attempt, 'state', 'leased', 'token', token, 'startedat', ARGV[1], 'started', '0')
              f[st] = '0'
            else
              redis.call('HSET', jk, 'attempt', attempt, 'state', 'leased', 'token', token, 'startedat', ARGV[1])
            end
            if at then f[at] = attempt else f[#f + 1] = 'attempt'; f[#f + 1] = attempt end
            hand_out(out, id, f)
            leased[#leased + 1] = ARGV[2]
            leased[#leased + 1] = id
          end
        end
        zmany('ZADD', b .. ':leased', leased)
        local count = #leased / 2
        if rate_w and count > 0 then
          redis.call('HSET', b .. ':rate', 'w', ARGV[5], 'used', num(rate_used + count))
          redis.call('PEXPIRE', b .. ':rate', num(math.max(1, tonumber(ARGV[7]) - now + tonumber(ARGV[8]))))
          -- Used up: nothing more is leased before the window ends (nor before the next delayed job, if later).
          if rate_used + count >= tonumber(ARGV[6]) and out[2] < tonumber(ARGV[7]) then out[2] = tonumber(ARGV[7]) end
        end
        return out
        """);

    /// <summary>
    /// Takes over expired leases: ARGV now, lease expiry, then ids. A job whose lease is still expired gets a new token
    /// (fencing out the lost holder) and expiry, its attempt and started flag untouched. Returns {token, then each job as
    /// <c>hand_out</c> puts it}.
    /// </summary>
    public static readonly RedisScript TakeOver = new("take over", Prelude + HandOut + """
        local now = tonumber(ARGV[1])
        local out = {0}
        local token = nil
        for i = 3, #ARGV do
          local id = ARGV[i]
          local score = redis.call('ZSCORE', b .. ':leased', id)
          if score and tonumber(score) <= now and redis.call('HGET', jobkey(id), 'state') == 'leased' then
            if token == nil then
              token = redis.call('INCR', b .. ':fence')
              out[1] = token
            end
            local jk = jobkey(id)
            redis.call('HSET', jk, 'token', token)
            redis.call('ZADD', b .. ':leased', ARGV[2], id)
            hand_out(out, id, redis.call('HGETALL', jk))
          end
        end
        return out
        """);

    /// <summary>Extends held leases: ARGV lease expiry, then id and token pairs. Returns per job 0 (lost), 1 (held) or 2 (held, cancel requested).</summary>
    public static readonly RedisScript Heartbeat = new("heartbeat", Prelude + """
        local out = {}
        for i = 2, #ARGV, 2 do
          local id = ARGV[i]
          local f = redis.call('HMGET', jobkey(id), 'state', 'token', 'cancel')
          if f[1] == 'leased' and f[2] == ARGV[i + 1] then
            redis.call('ZADD', b .. ':leased', ARGV[1], id)
            out[#out + 1] = f[3] == '1' and 2 or 1
          else
            out[#out + 1] = 0
          end
        end
        return out
        """);

    /// <summary>Lets go of a taken-over job unsettled, at dispose: its lease is expired at once, for the next rescue anywhere. ARGV id, token. Returns 1, or 0 when the lease was lost.</summary>
    public static readonly RedisScript Expire = new("expire lease", Prelude + """
        if not held(ARGV[1], ARGV[2]) then return 0 end
        redis.call('ZADD', b .. ':leased', 0, ARGV[1])
        return 1
        """);

    /// <summary>Records an isolated job's start: ARGV id, token. Returns 1, or 0 when the lease was lost.</summary>
    public static readonly RedisScript MarkStarted = new("mark started", Prelude + """
        if not held(ARGV[1], ARGV[2]) then return 0 end
        redis.call('HSET', jobkey(ARGV[1]), 'started', '1')
        return 1
        """);

    /// <summary>
    /// Settles successes, a batch per call: ARGV finished retention, capacity, then per job id, token, result, finish
    /// time, key retained until (0: free it). Each job is settled only while its lease's token still holds, and each
    /// settled releases its continuations (see <c>settle_children</c>). Returns {evicted statuses, then 1 (settled) or 0
    /// (lease lost) per job}.
    /// </summary>
    /// <remarks>
    /// The hot path: per job one HMGET and one HSET (or a DEL when no status is kept); one EXISTS per call of the jobs'
    /// continuation sets (an SMEMBERS per job only when one exists); the leased and finished sets are written once per
    /// call, and the finished statuses trimmed once, with one DEL for all it evicts.
    /// </remarks>
    public static readonly RedisScript CompleteMany = new("complete", Prelude + """
        local retention = tonumber(ARGV[1])
        local capacity = tonumber(ARGV[2])
        local keep = retention > 0 and capacity > 0
        local out = {0}
        local settled = {}
        local finished = {}
        local now = 0
        -- Whether any job of the batch has continuations waiting: one EXISTS for the batch, not an SMEMBERS per job.
        local kids = {}
        for i = 3, #ARGV, 5 do kids[#kids + 1] = b .. ':children:' .. ARGV[i] end
        local any_kids = false
        for i = 1, #kids, 4000 do
          if redis.call('EXISTS', unpack(kids, i, math.min(i + 3999, #kids))) > 0 then any_kids = true end
        end
        for i = 3, #ARGV, 5 do
          local id = ARGV[i]
          local fin = tonumber(ARGV[i + 3])
          local until_ = tonumber(ARGV[i + 4])
          if fin > now then now = fin end
          local jk = jobkey(id)
          local f = redis.call('HMGET', jk, 'state', 'token', 'key')
          if f[1] == 'leased' and f[2] == ARGV[i + 1] then
            local key = f[3]
            if key and key ~= '' and redis.call('HGET', b .. ':keys', key) == id then
              if until_ > 0 then
                redis.call('ZADD', b .. ':keyexp', num(until_), key)
              else
                redis.call('HDEL', b .. ':keys', key)
                redis.call('ZREM', b .. ':keyexp', key)
              end
            end
            if keep then
              -- The finish time as the caller wrote it (whole milliseconds): no number formatting per job.
              if ARGV[i + 2] == '' then
                redis.call('HSET', jk, 'state', 'succeeded', 'fin', ARGV[i + 3], 'payload', '')
              else
                redis.call('HSET', jk, 'result', ARGV[i + 2], 'state', 'succeeded', 'fin', ARGV[i + 3], 'payload', '')
              end
              finished[#finished + 1] = ARGV[i + 3]
              finished[#finished + 1] = id
            else
              redis.call('DEL', jk)
            end
            if any_kids then settle_children(id, true, fin) end
            settled[#settled + 1] = id
            out[#out + 1] = 1
          else
            out[#out + 1] = 0
          end
        end
        zmany('ZREM', b .. ':leased', settled)
        if #finished > 0 then
          zmany('ZADD', b .. ':finished', finished)
          out[1] = trim_finished(now, retention, capacity)
        end
        return out
        """);

    /// <summary>Settles a cancel: ARGV id, token, now, finished retention, capacity, attempt. Returns -1 when the lease was lost, else the capacity's evictions.</summary>
    public static readonly RedisScript MarkCancelled = new("mark cancelled", Prelude + """
        local id = ARGV[1]
        if not held(id, ARGV[2]) then return -1 end
        redis.call('HSET', jobkey(id), 'attempt', ARGV[6])
        free_key(id)
        settle_children(id, false, tonumber(ARGV[3]))
        return finish(id, 'cancelled', tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
        """);

    /// <summary>Runs a job again later: ARGV id, token, now, due ticks, due ms, attempt, errors, isolated. Returns -1 when the lease was lost, else 0.</summary>
    public static readonly RedisScript Reschedule = new("reschedule", Prelude + """
        local id = ARGV[1]
        if not held(id, ARGV[2]) then return -1 end
        local jk = jobkey(id)
        redis.call('ZREM', b .. ':leased', id)
        redis.call('HSET', jk, 'runat', ARGV[4], 'attempt', ARGV[6], 'errors', ARGV[7], 'iso', ARGV[8], 'started', '0', 'token', '')
        if tonumber(ARGV[5]) <= tonumber(ARGV[3]) then
          ready_add(id, tonumber(ARGV[3]))
        else
          redis.call('HSET', jk, 'state', 'scheduled')
          redis.call('ZADD', b .. ':scheduled', ARGV[5], id)
        end
        redis.call('PUBLISH', b .. ':wake', '1')
        return 0
        """);

    /// <summary>
    /// Dead-letters a job: ARGV id, token, now, dead-letter queue, attempt, errors, retention ms, capacity. Frees its key,
    /// evicts past retention or capacity. Returns {-1} when the lease was lost, else {0, evicted id, kind, reason...}.
    /// </summary>
    public static readonly RedisScript DeadLetter = new("dead-letter", Prelude + """
        local id = ARGV[1]
        if not held(id, ARGV[2]) then return {-1} end
        local jk = jobkey(id)
        local dlq = ARGV[4]
        redis.call('ZREM', b .. ':leased', id)
        free_key(id)
        redis.call('HSET', jk, 'state', 'dead', 'dlq', dlq, 'dlat', ARGV[3], 'attempt', ARGV[5], 'errors', ARGV[6], 'token', '')
        redis.call('ZADD', b .. ':dead:' .. dlq, num(redis.call('INCR', b .. ':seq')), id)
        redis.call('HSET', b .. ':deadqueues', dlq, ARGV[7] .. ' ' .. ARGV[8])
        settle_children(id, false, tonumber(ARGV[3]))
        local out = evict_dead(dlq, tonumber(ARGV[3]), tonumber(ARGV[7]), tonumber(ARGV[8]))
        table.insert(out, 1, 0)
        return out
        """);

    /// <summary>
    /// Cancels by id: ARGV id, now, finished retention, capacity. Returns {code, evicted}: 'N' not here, 'C' cancelled
    /// (was waiting or scheduled), 'R' cancel requested (leased), 'F' already finished.
    /// </summary>
    public static readonly RedisScript Cancel = new("cancel", Prelude + """
        local id = ARGV[1]
        local state = redis.call('HGET', jobkey(id), 'state')
        if not state then return {'N', 0} end
        if state == 'waiting' or state == 'scheduled' or state == 'awaiting' then
          redis.call('ZREM', b .. ':ready', id)
          redis.call('ZREM', b .. ':iso', id)
          redis.call('ZREM', b .. ':scheduled', id)
          free_key(id)
          settle_children(id, false, tonumber(ARGV[2]))
          return {'C', finish(id, 'cancelled', tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))}
        end
        if state == 'leased' then
          redis.call('HSET', jobkey(id), 'cancel', '1')
          return {'R', 0}
        end
        return {'F', 0}
        """);

    /// <summary>Counts: ARGV now. Returns {due, scheduled, leased, paused}.</summary>
    public static readonly RedisScript Count = new("count", Prelude + """
        local now = num(tonumber(ARGV[1]))
        local s = b .. ':scheduled'
        local due = redis.call('ZCARD', b .. ':ready') + redis.call('ZCARD', b .. ':iso') + redis.call('ZCOUNT', s, '-inf', now)
        return {due, redis.call('ZCOUNT', s, '(' .. now, '+inf'), redis.call('ZCARD', b .. ':leased'), redis.call('EXISTS', b .. ':paused')}
        """);

    /// <summary>
    /// The sweeper's upkeep: ARGV now, finished retention, capacity. Frees retained keys past their time, trims finished
    /// statuses, evicts each dead-letter queue's entries past its stored retention or capacity. Returns
    /// {status evictions, dead-letter queue, id, kind, reason, ...} (one dead-letter queue name before each evicted triple).
    /// </summary>
    public static readonly RedisScript Sweep = new("sweep", Prelude + """
        local now = tonumber(ARGV[1])
        local keys = redis.call('ZRANGE', b .. ':keyexp', '-inf', num(now), 'BYSCORE')
        for _, key in ipairs(keys) do
          redis.call('HDEL', b .. ':keys', key)
          redis.call('ZREM', b .. ':keyexp', key)
        end
        local out = {0}
        if tonumber(ARGV[3]) > 0 and tonumber(ARGV[2]) > 0 then
          out[1] = trim_finished(now, tonumber(ARGV[2]), tonumber(ARGV[3]))
        end
        local targets = redis.call('HGETALL', b .. ':deadqueues')
        for i = 1, #targets, 2 do
          local retention, capacity = string.match(targets[i + 1], '(%S+) (%S+)')
          local evicted = evict_dead(targets[i], now, tonumber(retention), tonumber(capacity))
          for j = 1, #evicted, 3 do
            out[#out + 1] = targets[i]; out[#out + 1] = evicted[j]; out[#out + 1] = evicted[j + 1]; out[#out + 1] = evicted[j + 2]
          end
        end
        return out
        """);

    /// <summary>Moves dead letters back to the queue as fresh jobs: ARGV now ticks, dead-letter queue ('' with an id), now ms, then ids (none: the whole queue). Returns how many.</summary>
    public static readonly RedisScript Requeue = new("requeue", Prelude + """
        local ids = {}
        for i = 4, #ARGV do ids[#ids + 1] = ARGV[i] end
        if #ids == 0 then ids = redis.call('ZRANGE', b .. ':dead:' .. ARGV[2], 0, -1) end
        local n = 0
        for _, id in ipairs(ids) do
          local jk = jobkey(id)
          local f = redis.call('HMGET', jk, 'state', 'dlq')
          if f[1] == 'dead' then
            redis.call('ZREM', b .. ':dead:' .. f[2], id)
            redis.call('HSET', jk, 'attempt', '0', 'iso', '0', 'started', '0', 'cancel', '0', 'runat', ARGV[1], 'dlq', '', 'dlat', '')
            ready_add(id, tonumber(ARGV[3]))
            n = n + 1
          end
        end
        if n > 0 then redis.call('PUBLISH', b .. ':wake', '1') end
        return n
        """);

    /// <summary>Deletes dead letters: ARGV dead-letter queue ('' with ids), then ids (none: the whole queue). Returns how many.</summary>
    public static readonly RedisScript DeleteDead = new("delete dead letters", Prelude + """
        local ids = {}
        for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
        if #ids == 0 then ids = redis.call('ZRANGE', b .. ':dead:' .. ARGV[1], 0, -1) end
        local n = 0
        for _, id in ipairs(ids) do
          local f = redis.call('HMGET', jobkey(id), 'state', 'dlq')
          if f[1] == 'dead' then
            redis.call('ZREM', b .. ':dead:' .. f[2], id)
            redis.call('DEL', jobkey(id))
            n = n + 1
          end
        end
        return n
        """);

    /// <summary>Evicts one dead-letter queue's entries past its stored retention or capacity: ARGV dead-letter queue, now. Returns {id, kind, reason...}.</summary>
    public static readonly RedisScript EvictDead = new("evict dead letters", Prelude + """
        local target = redis.call('HGET', b .. ':deadqueues', ARGV[1])
        if not target then return {} end
        local retention, capacity = string.match(target, '(%S+) (%S+)')
        return evict_dead(ARGV[1], tonumber(ARGV[2]), tonumber(retention), tonumber(capacity))
        """);

    /// <summary>Every script, loaded at start.</summary>
    public static IReadOnlyList<RedisScript> All { get; } =
        [Enqueue, Continue, Fetch, TakeOver, Heartbeat, Expire, MarkStarted, CompleteMany, MarkCancelled, Reschedule, DeadLetter, Cancel, Count, Sweep, Requeue, DeleteDead, EvictDead];
}
