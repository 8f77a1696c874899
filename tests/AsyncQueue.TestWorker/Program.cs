// The durable stores' child process for crash and multi-process tests, and their throughput console.
//
// Every command runs on one store: --sqlite FILE, --postgres CONNECTION-STRING [--schema NAME], or
// --redis CONFIGURATION [--prefix NAME]. Options of the
// store: --lease-ms N (the lease of the short-lease commands, default 2000; the heartbeat is a quarter of it) and
// --fetch-batch N (the most jobs leased by one query, default 256).
//
//   work STORE --results FILE [--enqueue N] [--delay-ms N] [--concurrency N] [--retries N] [--retry-ms N] [--poison K]
//       Runs DurableJob handlers (RetryPolicy.Fixed(--retries, --retry-ms), default 5 and 100); each appends
//       "number attempt" to the results file when it starts (flushed to the OS before the job is acknowledged). With
//       --enqueue, first enqueues jobs 0..N-1. With --poison, job K prints "@@poison <attempt>" and kills its own
//       process (SIGKILL) each time it starts. Runs until its standard input closes (or it is killed).
//   poison STORE [--enqueue] [--max-attempts N]
//       Runs a handler that prints "@@started <attempt>" and never returns: the test kills the process each time. Prints
//       "@@dead-lettered <id> <attempts>" when the store dead-letters the job. Runs until its standard input closes.
//   cancel STORE [--enqueue]
//       Runs a handler that prints "@@started <id> <attempt>" and waits on its cancellation token; when the token fires it
//       prints "@@cancelled <id>" and throws. With --enqueue, first enqueues one such job and prints "@@enqueued <id>".
//       The test cancels the job from its own process. Runs until its standard input closes.
//   recurring STORE --results FILE [--cron EXPR]
//       Runs the recurring job "tick" on EXPR (default "* * * * * *", every second); its handler appends
//       "<tick in Unix seconds> <attempt>" to the results file. Logs at Debug each tick another process enqueued first.
//       Runs until its standard input closes.
//   chain STORE --results FILE [--enqueue] [--block-at K]
//       Runs ChainJob handlers (one at a time); each appends "step attempt" to the results file and prints
//       "@@started <step> <attempt>". With --enqueue, first enqueues a chain of three (step 1, then 2 and 3 each a
//       continuation of the one before) and prints "@@enqueued <id1> <id2> <id3>". Step K never returns: the test kills
//       the process there. Runs until its standard input closes.
//   throughput STORE [--jobs N] [--concurrency N] [--producers N] [--batch N]
//       Measures end-to-end jobs/s: from the first enqueue to the last handler run. Prints the rate. On SQLite the file
//       is deleted first; on PostgreSQL the run uses a fresh schema, dropped afterwards.
//
// work and poison use short leases (--lease-ms) so the tests spend little time waiting for a dead process's leases to
// expire. Lines meant for the test start with "@@"; logs go to standard error.
using AsyncQueue.TestWorker;

return args.Length == 0 ? Usage() : args[0] switch
{
    "work" => await WorkCommand.RunAsync(new Arguments(args)),
    "poison" => await PoisonCommand.RunAsync(new Arguments(args)),
    "cancel" => await CancelCommand.RunAsync(new Arguments(args)),
    "chain" => await ChainCommand.RunAsync(new Arguments(args)),
    "recurring" => await RecurringCommand.RunAsync(new Arguments(args)),
    "throughput" => await ThroughputCommand.RunAsync(new Arguments(args)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: work|poison|cancel|chain|recurring|throughput (--sqlite FILE | --postgres CONNECTION-STRING [--schema NAME] | --redis CONFIGURATION [--prefix NAME]) [options]; see Program.cs");
    return 2;
}
