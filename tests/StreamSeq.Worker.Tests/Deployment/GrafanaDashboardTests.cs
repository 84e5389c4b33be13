using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using StreamSeq.Testing;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Deployment;

/// <summary>
/// The Grafana dashboard (the chart's, which the compose stack provisions too) filters by namespace, job and instance
/// and shows each metric in its unit. The names it queries are checked against a running worker in
/// <see cref="MetricsExportTests"/>.
/// </summary>
public sealed partial class GrafanaDashboardTests
{
    private static readonly JsonNode Dashboard = JsonNode.Parse(File.ReadAllText(RepositoryFiles.Path("helm", "streamseq", "dashboards", "streamseq.json")))!;

    [Fact]
    public void Dashboard_Variables_NamespaceJobAndInstanceFromTheWorkersSeriesWithAll()
    {
        var variables = Dashboard["templating"]!["list"].Items().ToDictionary(v => v["name"].Text()!);

        Assert.Equal("datasource", variables["datasource"]["type"].Text());
        foreach (var name in new[] { "namespace", "job", "instance" })
        {
            var variable = variables[name];
            Assert.Equal("query", variable["type"].Text());
            Assert.Matches($@"^label_values\(streamseq_[a-z_]+(\{{.*\}})?, {name}\)$", variable["query"]!["query"].Text());
            Assert.True(variable["includeAll"]!.GetValue<bool>());
            Assert.True(variable["multi"]!.GetValue<bool>());

            // ".*" also matches series without the label (the compose stack has no namespace).
            Assert.Equal(".*", variable["allValue"].Text());
        }
    }

    [Fact]
    public void Dashboard_EverySelector_FiltersByNamespaceJobAndInstance()
    {
        foreach (var expr in Expressions())
        {
            var selectors = Selector().Matches(expr);
            Assert.NotEmpty(selectors);
            Assert.All(selectors, m => Assert.StartsWith("namespace=~\"$namespace\", job=~\"$job\", instance=~\"$instance\"", m.Groups[2].Value, StringComparison.Ordinal));
            Assert.Equal(MetricName().Count(expr), selectors.Count);
        }
    }

    [Fact]
    public void Dashboard_Units_SecondsForDurationsAndRecordsNotRequestsForThroughput()
    {
        foreach (var panel in Dashboard["panels"].Items())
        {
            var unit = panel["fieldConfig"]!["defaults"]!["unit"].Text() ?? string.Empty;
            var title = panel["title"].Text();
            var exprs = panel["targets"].Items().Select(t => t["expr"].Text()!).ToList();
            Assert.DoesNotContain(unit, new[] { "reqps", "rps", "µs", "ms", "ns" });
            if (exprs.Any(e => e.Contains("_seconds", StringComparison.Ordinal)))
            {
                Assert.True(unit == "s", $"{title}: durations are in seconds, the unit is '{unit}'");
            }

            if (exprs.Any(e => Regex.IsMatch(e, @"rate\(streamseq_(records_in|records_out|kafka_produced)_total")))
            {
                Assert.True(unit == "suffix: records/s", $"{title}: throughput is records per second, the unit is '{unit}'");
            }
        }
    }

    private static IEnumerable<string> Expressions() =>
        Dashboard["panels"].Items().SelectMany(p => p["targets"].Items()).Select(t => t["expr"].Text()!);

    [GeneratedRegex(@"(streamseq_[a-z0-9_]+)\{([^}]*)\}")]
    private static partial Regex Selector();

    [GeneratedRegex("streamseq_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
