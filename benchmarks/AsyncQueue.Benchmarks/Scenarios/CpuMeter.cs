using System.Diagnostics;
using System.Globalization;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// Reads the CPU time used so far by this process and by another one (a broker), from <c>/proc</c> on Linux: the
/// difference between two reads, per job, is what a phase cost each side, whatever share of the machine it got.
/// </summary>
internal sealed class CpuMeter(int otherPid)
{
    private static readonly double TickSeconds = 1.0 / 100; // USER_HZ: 100 on every Linux this runs on.

    /// <summary>This process's and the other process's CPU time so far, in seconds (the other's is 0 if it cannot be read).</summary>
    public (double Client, double Other) Read()
    {
        using var self = Process.GetCurrentProcess();
        return (self.TotalProcessorTime.TotalSeconds, OtherSeconds());
    }

    /// <summary>Microseconds of CPU per job between two reads.</summary>
    public static (double Client, double Broker) PerJob((double Client, double Other) from, (double Client, double Other) to, int jobs) =>
        ((to.Client - from.Client) * 1e6 / jobs, (to.Other - from.Other) * 1e6 / jobs);

    private double OtherSeconds()
    {
        try
        {
            // Fields after the command name (which may hold spaces, hence the last ')'): utime and stime are the 12th and 13th.
            var fields = File.ReadAllText($"/proc/{otherPid}/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * TickSeconds;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
