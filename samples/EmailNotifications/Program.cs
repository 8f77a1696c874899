using System.Globalization;
using EmailNotifications;

// Usage: dotnet run --project samples/EmailNotifications [pickup-folder] [--seed N] [--failure-rate 0..1] [--verbose] [--keep] [--rabbitmq amqp://...]
// Sends 8 notifications (9 enqueues: one double click) through a 5-worker queue as .eml files in the pickup folder
// (default: a new temporary folder, deleted at the end unless --keep). A flaky transport fails some sends first so
// retries show (--failure-rate 0 turns it off); one recipient's server is down, so its email uses up its 3 retries
// and ends in the 'failed-emails' dead-letter queue, as does a mistyped address, at once. --verbose adds the queue's
// own log. --rabbitmq URI (or the ASYNCQUEUE_RABBITMQ environment variable, which the flag overrides) runs the queue on
// that RabbitMQ broker instead of in memory. Exit code: 0 done, 2 bad arguments.
const string Usage = "Usage: dotnet run --project samples/EmailNotifications [pickup-folder] [--seed N] [--failure-rate 0..1] [--verbose] [--keep] [--rabbitmq amqp://user:password@host:5672/]";
string? folder = null;
var seed = DemoOptions.DefaultSeed;
var failureRate = DemoOptions.DefaultFailureRate;
var verbose = false;
var keep = false;
var rabbitMq = Environment.GetEnvironmentVariable(DemoOptions.RabbitMqVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
for (var i = 0; i < args.Length; i++)
{
    var value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--seed":
            if (!int.TryParse(value, CultureInfo.InvariantCulture, out seed))
            {
                return Fail($"--seed needs a whole number, but got '{value}'.");
            }

            i++;
            break;
        case "--failure-rate":
            if (!double.TryParse(value, CultureInfo.InvariantCulture, out failureRate) || failureRate is not (>= 0 and <= 1))
            {
                return Fail($"--failure-rate needs a number from 0 to 1, but got '{value}'.");
            }

            i++;
            break;
        case "--rabbitmq":
            if (!Uri.TryCreate(value, UriKind.Absolute, out var amqp) || amqp.Scheme is not ("amqp" or "amqps"))
            {
                return Fail($"--rabbitmq needs an amqp:// or amqps:// URI, but got '{value}'.");
            }

            rabbitMq = value;
            i++;
            break;
        case "--verbose":
            verbose = true;
            break;
        case "--keep":
            keep = true;
            break;
        case var arg when folder is null && !arg.StartsWith("--", StringComparison.Ordinal):
            folder = arg;
            break;
        default:
            return Fail($"Unexpected argument '{args[i]}'.");
    }
}

string? temporaryRoot = null;
if (folder is null)
{
    temporaryRoot = Path.Combine(Path.GetTempPath(), "asyncqueue-emails-" + Guid.NewGuid().ToString("N")[..8]);
    folder = Path.Combine(temporaryRoot, "pickup");
}

try
{
    await NotificationDemo.RunAsync(new DemoOptions(folder, seed, failureRate, verbose, rabbitMq), Console.Out);
}
finally
{
    if (temporaryRoot is not null)
    {
        if (keep)
        {
            Console.WriteLine($"Kept the pickup folder: {folder}");
        }
        else
        {
            Directory.Delete(temporaryRoot, recursive: true);
            Console.WriteLine($"Deleted the temporary pickup folder {folder} (run with --keep to open the .eml files, or pass a folder of your own).");
        }
    }
}

return 0;

static int Fail(string message)
{
    Console.Error.WriteLine($"{message} {Usage}");
    return 2;
}
