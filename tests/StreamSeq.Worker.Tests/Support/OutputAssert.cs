namespace StreamSeq.Worker.Tests.Support;

/// <summary>Compares committed Kafka outputs with an uninterrupted run: every record exactly once, byte for byte, in order per stream.</summary>
internal static class OutputAssert
{
    public static void ExactlyOnce(KafkaTestBed bed, Dictionary<string, Dictionary<string, List<string>>> expected)
    {
        foreach (var topic in bed.OutputTopics)
        {
            var want = expected.GetValueOrDefault(topic) ?? [];
            var got = bed.ReadCommitted(topic);
            var wantCount = want.Values.Sum(v => v.Count);
            var gotCount = got.Values.Sum(v => v.Count);
            if (wantCount != gotCount)
            {
                // Say which streams differ and where, so that one extra or missing record can be traced to its stream.
                var differing = want.Keys.Union(got.Keys).Order(StringComparer.Ordinal)
                    .Select(key => (Key: key, Want: want.GetValueOrDefault(key) ?? [], Got: got.GetValueOrDefault(key) ?? []))
                    .Where(d => !d.Want.SequenceEqual(d.Got))
                    .Take(5)
                    .Select(d => $"stream {d.Key}: {d.Want.Count} expected, {d.Got.Count} committed; first difference at #{FirstDifference(d.Want, d.Got)}:\n expected {d.Want.ElementAtOrDefault(FirstDifference(d.Want, d.Got))}\n got      {d.Got.ElementAtOrDefault(FirstDifference(d.Want, d.Got))}");
                Assert.Fail($"{topic}: expected {wantCount} records, got {gotCount}\n{string.Join("\n", differing)}");
            }

            foreach (var (key, records) in want)
            {
                Assert.True(got.TryGetValue(key, out var actual), $"{topic}: no records for stream {key}");
                if (!records.SequenceEqual(actual))
                {
                    var i = FirstDifference(records, actual);
                    Assert.Fail($"{topic}, stream {key}: {records.Count} expected, {actual.Count} committed; first difference at #{i}:\n expected {records.ElementAtOrDefault(i)}\n got      {actual.ElementAtOrDefault(i)}");
                }
            }
        }
    }

    private static int FirstDifference(List<string> expected, List<string> actual)
    {
        var i = 0;
        while (i < Math.Min(expected.Count, actual.Count) && expected[i] == actual[i])
        {
            i++;
        }

        return i;
    }
}
