using System.Globalization;
using System.Text;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;

namespace StreamSeq.EndToEnd;

/// <summary>
/// The workload of the issue's targets: many sensor streams of one local-linear-trend Kalman model, one reading per
/// stream per round (a minute of event time apart), round-robin over the streams.
/// </summary>
internal static class Workload
{
    /// <summary>A continuous-time local linear trend observed with noise, the model the targets name.</summary>
    public const string ModelJson = """
        {"name":"trend","kind":"linear-gaussian","timeUnit":"PT1M",
         "components":[{"type":"local-linear-trend","levelNoise":0.01,"slopeNoise":0.0001}],
         "observationNoise":[[0.25]],"initialMean":[20,0],"initialCovariance":[[100,0],[0,1]]}
        """;

    public static readonly long StartMilliseconds = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    public static ModelRouter Router(int lag = 0, int horizon = 0) =>
        new([ModelBindingFactory.FromSpec(ModelSpec.Parse(ModelJson), lag, horizon)]);

    public static string StreamId(int stream) => $"s{stream:D6}";

    /// <summary>Key and value bytes of every reading, round by round.</summary>
    public static List<(byte[] Key, byte[] Value)> Records(int streams, int rounds, int seed = 7)
    {
        var rng = new Random(seed);
        var level = new double[streams];
        var slope = new double[streams];
        for (var s = 0; s < streams; s++)
        {
            level[s] = 15 + (10 * rng.NextDouble());
            slope[s] = (rng.NextDouble() - 0.5) * 0.02;
        }

        var keys = Enumerable.Range(0, streams).Select(s => Encoding.UTF8.GetBytes(StreamId(s))).ToArray();
        var list = new List<(byte[], byte[])>(streams * rounds);
        for (var r = 0; r < rounds; r++)
        {
            var time = StartMilliseconds + (r * 60_000L);
            for (var s = 0; s < streams; s++)
            {
                level[s] += slope[s] + (0.1 * Gaussian(rng));
                var y = level[s] + (0.5 * Gaussian(rng));
                list.Add((keys[s], Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"time\":{time},\"values\":[{y:F4}]}}"))));
            }
        }

        return list;
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
