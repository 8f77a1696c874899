// The SQLite store's child process for crash tests, and its throughput console.
//
//   work --db FILE --results FILE [--enqueue N] [--delay-ms N] [--concurrency N]
//       Runs DurableJob handlers; each appends "number attempt" to the results file (flushed to the OS before the job is
//       acknowledged). With --enqueue, first enqueues jobs 0..N-1. Runs until its standard input closes (or it is killed).
//   poison --db FILE [--enqueue] [--max-attempts N]
//       Runs a handler that prints "@@started <attempt>" and never returns: the test kills the process each time. Prints
//       "@@dead-lettered <id> <attempts>" when the store dead-letters the job. Runs until its standard input closes.
//   throughput --db FILE [--jobs N] [--concurrency N] [--producers N] [--batch N]
//       Measures end-to-end jobs/s on a file database: from the first enqueue to the last handler run. Prints the rate.
//
// Child processes use short leases (2 s, heartbeat 500 ms) so the tests spend little time waiting for a dead
// process's leases to expire. Lines meant for the test start with "@@"; logs go to standard error.
using AsyncQueue.Sqlite.TestWorker;

return args.Length == 0 ? Usage() : args[0] switch
{
    "work" => await WorkCommand.RunAsync(new Arguments(args)),
    "poison" => await PoisonCommand.RunAsync(new Arguments(args)),
    "throughput" => await ThroughputCommand.RunAsync(new Arguments(args)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: work|poison|throughput --db FILE [options]; see Program.cs");
    return 2;
}
