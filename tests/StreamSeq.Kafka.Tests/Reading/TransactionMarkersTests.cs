using StreamSeq.Kafka.Reading;

namespace StreamSeq.Kafka.Tests.Reading;

public sealed class TransactionMarkersTests
{
    private readonly List<string> emitted = [];

    private TransactionMarkers<string> Markers(int maxHeld = 1000) => new(emitted.Add, maxHeld);

    [Fact]
    public void Record_UnstampedOrOfACommittedTransaction_HandedOnAtOnce()
    {
        var markers = Markers();
        markers.Marker("w1/abc/1/0");

        markers.Record(null, "plain");
        markers.Record("w1/abc/1/0", "committed");

        Assert.Equal(["plain", "committed"], emitted);
        Assert.Equal(0, markers.Held);
    }

    [Fact]
    public void Marker_AfterItsRecords_ReleasesThemInArrivalOrder()
    {
        var markers = Markers();
        markers.Record("w1/abc/2/0", "a");
        markers.Record("w1/abc/2/1", "other partition");
        markers.Record("w1/abc/2/0", "b");
        Assert.Empty(emitted);

        markers.Marker("w1/abc/2/0");

        Assert.Equal(["a", "b"], emitted);
        Assert.Equal(1, markers.Held);
    }

    [Fact]
    public void Marker_OfALaterTransactionOfTheSameWriterAndPartition_DropsTheEarlierOneAsAborted()
    {
        var markers = Markers();
        markers.Record("w1/abc/3/0", "aborted");
        markers.Record("w1/abc/3/1", "other partition, still open");
        markers.Record("w1/xyz/3/0", "another writer");
        markers.Record("w1/abc/5/0", "later, still open");

        markers.Marker("w1/abc/4/0");

        Assert.Empty(emitted);
        Assert.Equal(1, markers.Dropped);
        Assert.Equal(3, markers.Held);
        markers.Marker("w1/abc/5/0");
        Assert.Equal(["later, still open"], emitted);
    }

    [Fact]
    public void Marker_CopiedIntoASecondChangelogAndReadFirst_WithoutAbortInferenceTheEarlierTransactionStillCounts()
    {
        // A compacted copy holds the writer's newest marker (transaction 2); the original, read later, holds both.
        var markers = new TransactionMarkers<string>(emitted.Add, 1000, inferAborts: false);
        markers.Record("w1/abc/1/0", "first");
        markers.Record("w1/abc/2/0", "second");

        markers.Marker("w1/abc/2/0"); // from the copy
        markers.Marker("w1/abc/1/0"); // from the original
        markers.Marker("w1/abc/2/0");

        Assert.Equal(["second", "first"], emitted);
        Assert.Equal(0, markers.Dropped);
    }

    [Fact]
    public void Record_InstanceIdWithSlashes_StampReadFromTheRight()
    {
        var markers = Markers();
        markers.Record("site/a/w1/abc/7/2", "held");
        markers.Marker("site/a/w1/abc/8/2");

        Assert.Equal(1, markers.Dropped);
        Assert.Empty(emitted);
    }

    [Fact]
    public void Record_MoreHeldThanTheBound_DropsTheOldestTransactionsFirst()
    {
        var markers = Markers(maxHeld: 3);
        markers.Record("w1/abc/1/0", "1a");
        markers.Record("w1/abc/1/0", "1b");
        markers.Record("w2/abc/1/0", "2a");
        markers.Record("w3/abc/1/0", "3a");

        Assert.Equal(2, markers.Dropped);
        Assert.Equal(2, markers.Held);
        markers.Marker("w1/abc/1/0");
        markers.Marker("w2/abc/1/0");
        markers.Marker("w3/abc/1/0");
        Assert.Equal(["2a", "3a"], emitted);
    }

    [Fact]
    public void Record_ManyTransactionsReleasedInTurn_KeepsNothingBehind()
    {
        var markers = Markers();
        for (var t = 0; t < 10_000; t++)
        {
            markers.Record($"w1/abc/{t}/0", $"r{t}");
            markers.Marker($"w1/abc/{t}/0");
        }

        Assert.Equal(10_000, emitted.Count);
        Assert.Equal(0, markers.Held);
        Assert.Equal(0, markers.Dropped);
    }
}
