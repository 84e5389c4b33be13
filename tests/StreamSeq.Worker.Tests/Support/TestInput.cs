using System.Globalization;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>A deterministic input workload: many streams, readings one minute apart, with occasional spikes and gaps.</summary>
internal static class TestInput
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>(stream, value JSON) in round-robin order over streams.</summary>
    public static List<(string Stream, string Value)> Generate(int streams, int perStream, int seed = 1)
    {
        var rng = new Random(seed);
        var levels = new double[streams];
        var list = new List<(string, string)>(streams * perStream);
        for (var t = 0; t < perStream; t++)
        {
            for (var s = 0; s < streams; s++)
            {
                levels[s] += rng.NextDouble() - 0.5;
                var y = levels[s] + ((rng.NextDouble() - 0.5) * 2);
                if (rng.Next(200) == 0)
                {
                    y += 25;
                }

                var value = rng.Next(100) == 0 ? "null" : y.ToString("R", CultureInfo.InvariantCulture);
                var time = Start.AddMinutes(t).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                list.Add(($"sensor-{s:D4}", $"{{\"time\":\"{time}\",\"values\":[{value}]}}"));
            }
        }

        return list;
    }

    public const string Model = """
        {"name":"level","kind":"linear-gaussian","timeUnit":"PT1M",
         "components":[{"type":"local-level","levelNoise":0.1}],"observationNoise":[[0.4]],
         "initialMean":[0],"initialCovariance":[[100]],
         "anomalyRules":[{"name":"surprise","type":"chi-square","threshold":0.001,"clearThreshold":0.1}]}
        """;
}
