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
            Assert.True(wantCount == gotCount, $"{topic}: expected {wantCount} records, got {gotCount}");
            foreach (var (key, records) in want)
            {
                Assert.True(got.TryGetValue(key, out var actual), $"{topic}: no records for stream {key}");
                if (!records.SequenceEqual(actual))
                {
                    var i = 0;
                    while (i < Math.Min(records.Count, actual.Count) && records[i] == actual[i])
                    {
                        i++;
                    }

                    Assert.Fail($"{topic}, stream {key}: {records.Count} expected, {actual.Count} committed; first difference at #{i}:\n expected {records.ElementAtOrDefault(i)}\n got      {actual.ElementAtOrDefault(i)}");
                }
            }
        }
    }
}
