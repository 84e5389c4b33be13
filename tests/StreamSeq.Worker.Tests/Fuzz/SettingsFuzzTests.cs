using System.Reflection;
using CsCheck;
using Microsoft.Extensions.Configuration;
using StreamSeq.Testing;
using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Tests.Fuzz;

/// <summary>
/// Hostile values for the worker's settings (<see cref="HostileMutations"/>): the settings load, or loading stops with
/// <see cref="InvalidSettingsException"/> naming a setting given; no other exception escapes. The iteration counts keep
/// each test to a few seconds; set <c>CsCheck_Time</c> (seconds per property) for a longer campaign.
/// </summary>
public sealed class SettingsFuzzTests
{
    /// <summary>Every scalar setting of the known sections (one level of nesting, as most settings are).</summary>
    private static readonly string[] Keys =
    [
        .. SettingsCatalog.KnownSections
            .SelectMany(s => s.Value.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => $"{SettingsCatalog.Root}:{s.Key}:{p.Name}"))
            .Where(k => SettingsCatalog.ValueType(k) is not null)
            .Order(StringComparer.Ordinal),
    ];

    [Fact]
    public void DurationConverter_HostileText_IsANonNegativeSpanOrRefused()
    {
        HostileMutations.TextOf("100ms", "15s", "1m", "1h30m", "1m0.5s", "2d", " 250ms ", "0s").Sample(
            text =>
            {
                if (DurationConverter.TryParseWithUnits(text, out var duration))
                {
                    Assert.True(duration >= TimeSpan.Zero, text);
                }
            },
            iter: 5000,
            threads: 1);
    }

    [Fact]
    public void Load_HostileSettingValues_LoadOrStopNamingASettingGiven()
    {
        Assert.NotEmpty(Keys);
        var values = HostileMutations.TextOf("250ms", "15s", "00:00:15", "1", "100", "0.5", "true", "kafka:9092", "fail", "warn", "input", "none", "http://localhost:9090/x");
        Gen.Select(Gen.OneOfConst(Keys), values).Array[1, 3].Sample(
            settings =>
            {
                var given = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
                {
                    ["StreamSeq:Kafka:BootstrapServers"] = "kafka:9092",
                    ["StreamSeq:Models:0:name"] = "level",
                    ["StreamSeq:Models:0:kind"] = "linear-gaussian",
                    ["StreamSeq:Models:0:components:0:type"] = "local-level",
                    ["StreamSeq:Models:0:components:0:levelNoise"] = "0.1",
                    ["StreamSeq:Models:0:observationNoise:0:0"] = "1",
                };
                foreach (var (key, value) in settings)
                {
                    given[key] = value;
                }

                var configuration = new ConfigurationBuilder().AddInMemoryCollection(given).Build();
                try
                {
                    WorkerSettings.Load(configuration);
                }
                catch (InvalidSettingsException e)
                {
                    Assert.NotEmpty(e.Problems);
                    Assert.All(e.Problems, p => Assert.False(string.IsNullOrWhiteSpace(p)));
                }
            },
            iter: 1000,
            threads: 1);
    }
}
