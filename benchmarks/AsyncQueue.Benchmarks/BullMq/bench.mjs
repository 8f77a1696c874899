// The BullMQ contender of the Redis scenario (docs/benchmarks.md, "Redis store vs BullMQ and Hangfire.Redis").
// Started by the C# harness (Scenarios/BullMqScript.cs):
//   node bench.mjs --redis 127.0.0.1:6379 --jobs 20000 --mode single|batched
// Prints one JSON line: {"contender":"BullMQ 6.7.0","mode":...,"jobs":N,"seconds":S,"jobsPerSecond":R}.
//
// Measured like the AsyncQueue contenders: one warm-up run, then one measured run of the same size, each end to end
// (first enqueue to the last job's processor having run), with the worker started before the clock starts.
// - "2 workers" = one Worker with concurrency 2 in one Node process: the same shape as AsyncQueue's MaxConcurrency 2
//   and Hangfire's WorkerCount 2 (one process, one consumer, two jobs in flight at once). Two Worker instances of
//   concurrency 1 would be two consumers with two blocking connections: more like two processes, which the other
//   contenders are not given.
// - removeOnComplete: true, so that a finished job is deleted rather than kept in the completed set: BullMQ's cheapest
//   completion, and no growth of Redis between runs.
// - single: `queue.add` one job at a time, each awaited (as one awaited EnqueueAsync per job);
//   batched: `queue.addBulk` of 1,000 jobs at a time (as EnqueueBatchAsync of 1,000).
import { Queue, Worker } from 'bullmq';

const Batch = 1000;

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  if (at < 0) {
    if (fallback === undefined) throw new Error(`${name} is required`);
    return fallback;
  }
  return process.argv[at + 1];
}

const [host, port] = option('--redis').split(':');
const jobs = Number.parseInt(option('--jobs'), 10);
const mode = option('--mode', 'batched');
if (!(jobs > 0) || (mode !== 'single' && mode !== 'batched')) {
  throw new Error('usage: node bench.mjs --redis HOST:PORT --jobs N --mode single|batched');
}

const connection = { host, port: Number.parseInt(port, 10) };
const name = `bench-${process.pid}`;
const queue = new Queue(name, { connection, defaultJobOptions: { removeOnComplete: true } });

// The no-op processor counts the job done, as the C# contenders' handlers do.
let remaining = 0;
let done = () => {};
const worker = new Worker(name, async () => {
  if (--remaining === 0) done();
}, { connection, concurrency: 2 });

async function run() {
  const finished = new Promise((resolve) => { done = resolve; });
  remaining = jobs;
  const start = process.hrtime.bigint();
  if (mode === 'single') {
    for (let i = 0; i < jobs; i++) {
      await queue.add('noop', { index: i });
    }
  } else {
    for (let first = 0; first < jobs; first += Batch) {
      const size = Math.min(Batch, jobs - first);
      await queue.addBulk(Array.from({ length: size }, (_, i) => ({ name: 'noop', data: { index: first + i } })));
    }
  }
  await finished;
  return Number(process.hrtime.bigint() - start) / 1e9;
}

try {
  await queue.waitUntilReady();
  await worker.waitUntilReady();
  await run();
  const seconds = await run();
  console.log(JSON.stringify({ contender: 'BullMQ 6.7.0', mode, jobs, seconds, jobsPerSecond: jobs / seconds }));
} finally {
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
}
