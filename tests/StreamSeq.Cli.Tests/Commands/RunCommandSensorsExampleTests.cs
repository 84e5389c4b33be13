using System.Text.Json;
using StreamSeq.Cli.Tests.Plotting;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary>
/// The README's main example (trend + seasonal of period 1,440 with 2 harmonics, irregular one-minute gaps): each
/// stream leaves the exact diffuse start within 2n = 12 readings, and no record made after that carries a negative or
/// infinite variance.
/// </summary>
[Collection(SensorsRunCollection.Name)]
public sealed class RunCommandSensorsExampleTests(SensorsRun run)
{
    private const int StateDimension = 6;

    [Fact]
    public void Execute_ReadmeExample_NoInfinityAfterTheDiffuseStartAndNoNegativeVariance()
    {
        var filtered = new Dictionary<string, int>(StringComparer.Ordinal);
        var fallbacks = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(run.Output))
        {
            using var doc = JsonDocument.Parse(line);
            var record = doc.RootElement;
            var type = record.GetProperty("type").GetString()!;
            var stream = record.GetProperty("stream").GetString()!;
            var readings = filtered.GetValueOrDefault(stream);
            if (type == "filtered")
            {
                filtered[stream] = ++readings;
                var health = record.TryGetProperty("health", out var h) ? h.EnumerateArray().Select(v => v.GetString()).ToArray() : [];
                Assert.Equal(readings <= 2 * StateDimension, health.Contains("diffuse"));
                if (health.Contains("diffuse-fallback"))
                {
                    fallbacks[stream] = readings;
                }
            }

            // Infinity only in records made during the first 2n readings of a stream: filtered records, their forecasts,
            // and smoothed records of lag windows that end there (directions those readings leave undetermined).
            if (readings > 2 * StateDimension)
            {
                Assert.DoesNotContain("Infinity", line, StringComparison.Ordinal);
            }

            foreach (var part in new[] { "predicted", "observation", "state" })
            {
                if (record.TryGetProperty(part, out var moments) && moments.TryGetProperty("cov", out var cov))
                {
                    var rows = cov.EnumerateArray().ToArray();
                    for (var i = 0; i < rows.Length; i++)
                    {
                        var v = rows[i][i];
                        Assert.True(v.ValueKind == JsonValueKind.String ? v.GetString() == "Infinity" : v.GetDouble() >= 0.0, $"{type} {stream} reading {readings} {part} variance [{i}] = {v}");
                    }
                }
            }
        }

        Assert.Equal(6, filtered.Count);

        // The seasonal of period 1,440 is not determined by 12 one-minute readings: the next record of each stream
        // takes the stated finite prior and says so.
        Assert.All(filtered.Keys, s => Assert.Equal((2 * StateDimension) + 1, fallbacks[s]));
    }
}
