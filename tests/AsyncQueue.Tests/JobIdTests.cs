using System.Buffers.Binary;

namespace AsyncQueue.Tests;

public sealed class JobIdTests
{
    [Fact]
    public void NewId_ManyIds_AreDistinctAndRoundTripThroughText()
    {
        var ids = Enumerable.Range(0, 10_000).Select(_ => JobId.NewId()).ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Equal(id, JobId.Parse(id.ToString())));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(0x0102030405060708L)]
    [InlineData(long.MaxValue)]
    public void FromSequence_AnyNumber_IsTheProcessPrefixThenTheNumberBigEndian(long sequence)
    {
        var bytes = JobId.FromSequence(sequence).Value.ToByteArray();

        Assert.Equal(JobId.FromSequence(0).Value.ToByteArray()[..8], bytes[..8]);
        Assert.Equal(sequence, BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(8)));
    }

    [Fact]
    public void FromSequence_ConsecutiveNumbers_SortInByteOrder()
    {
        var ids = Enumerable.Range(250, 10).Select(i => JobId.FromSequence(i).Value.ToByteArray()).ToList();

        Assert.Equal(ids, ids.Order(Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b))));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-job-id")]
    public void TryParse_NotAnId_ReturnsFalse(string? text) => Assert.False(JobId.TryParse(text, out _));

    [Fact]
    public void TryParse_AsSpanParsable_ParsesTheTextForm()
    {
        var id = JobId.NewId();

        Assert.True(TryParse<JobId>(id.ToString(), out var parsed));
        Assert.Equal(id, parsed);
    }

    private static bool TryParse<T>(string text, out T value)
        where T : ISpanParsable<T> => T.TryParse(text.AsSpan(), null, out value!);
}
