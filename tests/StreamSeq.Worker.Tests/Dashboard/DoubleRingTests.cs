using StreamSeq.Worker.Dashboard;

namespace StreamSeq.Worker.Tests.Dashboard;

public sealed class DoubleRingTests
{
    [Fact]
    public void Add_PastCapacity_KeepsTheNewestRowsOldestFirst()
    {
        var ring = new DoubleRing(2, 3);
        for (var i = 1; i <= 7; i++)
        {
            ring.Add([i, i * 10]);
        }

        Assert.Equal(3, ring.Count);
        Assert.Equal([[5.0, 50.0], [6.0, 60.0], [7.0, 70.0]], Enumerable.Range(0, 3).Select(i => ring.Row(i).ToArray()));
        Assert.Equal([7.0, 70.0], ring.Last.ToArray());
    }

    [Fact]
    public void Add_ShortRow_PadsWithNaN()
    {
        var ring = new DoubleRing(3, 2);
        ring.Add([1]);
        Assert.Equal(1, ring.Row(0)[0]);
        Assert.True(double.IsNaN(ring.Row(0)[1]) && double.IsNaN(ring.Row(0)[2]));
    }
}
