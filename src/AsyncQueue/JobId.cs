using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace AsyncQueue;

/// <summary>The unique id of an enqueued job.</summary>
/// <remarks>
/// Ids are made of a random 64-bit prefix chosen once per process and a 64-bit counter: unique across the
/// processes of a fleet (the prefixes differ) without the cost of a random number per job. They are not secret: the
/// next id of a process is easy to guess, so never use one as an access token.
/// </remarks>
public readonly record struct JobId(Guid Value) : ISpanParsable<JobId>
{
    // Each thread takes counter values in blocks, so producers on several threads do not contend on one counter.
    private const int BlockSize = 1024;

    private static readonly long ProcessPrefix = BinaryPrimitives.ReadInt64LittleEndian(RandomNumberGenerator.GetBytes(8));
    private static long s_counter;

    [ThreadStatic]
    private static long t_next;

    [ThreadStatic]
    private static long t_end;

    /// <summary>Creates a new id, unique in this process and, with overwhelming probability, across processes.</summary>
    /// <returns>A fresh job id.</returns>
    public static JobId NewId() => FromSequence(NextSequence());

    /// <summary>Takes the next number of this process's id sequence, without building the id (the in-memory queue stores only the number).</summary>
    internal static long NextSequence()
    {
        var next = t_next;
        if (next == t_end)
        {
            next = Interlocked.Add(ref s_counter, BlockSize) - BlockSize;
            t_end = next + BlockSize;
        }

        t_next = next + 1;
        return next;
    }

    /// <summary>The id of number <paramref name="sequence"/> of this process's sequence.</summary>
    /// <remarks>
    /// The prefix's 8 bytes little-endian, then the sequence's 8 bytes big-endian, so that a process's ids sort by
    /// sequence wherever ids are compared as bytes (a database's uuid). On a little-endian machine that is a
    /// <see cref="Guid"/>'s own memory layout, so the id is the two numbers reinterpreted: a dispatched job builds
    /// its id, and going through a byte span cost a third of a no-op job's dispatch.
    /// </remarks>
    internal static JobId FromSequence(long sequence)
    {
        if (!BitConverter.IsLittleEndian)
        {
            Span<byte> bytes = stackalloc byte[16];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, ProcessPrefix);
            BinaryPrimitives.WriteInt64BigEndian(bytes[8..], sequence);
            return new JobId(new Guid(bytes));
        }

        return new JobId(Unsafe.BitCast<Halves, Guid>(new Halves(ProcessPrefix, BinaryPrimitives.ReverseEndianness(sequence))));
    }

    /// <summary>Parses the text form of a job id.</summary>
    /// <param name="text">An id as written by <see cref="ToString"/>.</param>
    /// <returns>The id.</returns>
    /// <exception cref="FormatException"><paramref name="text"/> is not a job id.</exception>
    public static JobId Parse(string text) => new(Guid.Parse(text));

    /// <summary>Tries to parse the text form of a job id, as a minimal-API route parameter does.</summary>
    /// <param name="text">An id as written by <see cref="ToString"/>.</param>
    /// <param name="jobId">The id, when the text is one.</param>
    /// <returns><see langword="true"/> when <paramref name="text"/> is a job id.</returns>
    public static bool TryParse(string? text, out JobId jobId)
    {
        var parsed = Guid.TryParse(text, out var value);
        jobId = new JobId(value);
        return parsed;
    }

    /// <inheritdoc />
    static JobId IParsable<JobId>.Parse(string s, IFormatProvider? provider) => Parse(s);

    /// <inheritdoc />
    static bool IParsable<JobId>.TryParse(string? s, IFormatProvider? provider, out JobId result) => TryParse(s, out result);

    /// <inheritdoc />
    static JobId ISpanParsable<JobId>.Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => new(Guid.Parse(s));

    /// <inheritdoc />
    static bool ISpanParsable<JobId>.TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out JobId result)
    {
        var parsed = Guid.TryParse(s, out var value);
        result = new JobId(value);
        return parsed;
    }

    /// <summary>Returns the id as 32 hexadecimal digits.</summary>
    /// <returns>The id's text form.</returns>
    public override string ToString() => Value.ToString("N");

    /// <summary>A <see cref="Guid"/>'s 16 bytes as two numbers, in memory order.</summary>
    private readonly record struct Halves(long First, long Second);
}
