using System.Diagnostics;
using System.Net;
using System.Net.Http;
using StreamSeq.Worker.Tests.Browser;

namespace StreamSeq.Worker.Tests.Hosting;

/// <summary>The worker says when it is ready: one line, once its partitions are restored, naming where it listens.</summary>
public sealed class ReadinessAnnouncerTests
{
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["StreamSeq:Embedded:Streams"] = "2",
        ["StreamSeq:Embedded:SummaryInterval"] = "00:01:00",
    };

    [Fact]
    public async Task Start_EmbeddedWorker_PrintsReadyOnceWithItsAddress()
    {
        await using var worker = await EmbeddedWorkerProcess.StartAsync(Settings, TimeSpan.FromSeconds(120));
        var clock = Stopwatch.StartNew();
        while (!worker.Output.Contains("StreamSeq worker ready", StringComparison.Ordinal) && clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            await Task.Delay(200);
        }

        var output = worker.Output;
        Assert.True(output.Contains("StreamSeq worker ready", StringComparison.Ordinal), $"no ready line:\n{output}");
        var line = output.Split('\n').First(l => l.Contains("StreamSeq worker ready", StringComparison.Ordinal));
        Assert.Contains(worker.Url, line, StringComparison.Ordinal);
        Assert.Contains("partitions [", line, StringComparison.Ordinal);
        Assert.Contains("dashboard and API on", line, StringComparison.Ordinal);

        // It is printed when the readiness probe agrees, and only once.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var ready = await http.GetAsync(new Uri($"{worker.Url}/health/ready"));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        await Task.Delay(1000);
        Assert.Equal(1, worker.Output.Split('\n').Count(l => l.Contains("StreamSeq worker ready", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Start_DashboardOff_ReadyLineDoesNotOfferADashboard()
    {
        var settings = new Dictionary<string, string>(Settings) { ["StreamSeq:Dashboard:Enabled"] = "false" };
        await using var worker = await EmbeddedWorkerProcess.StartAsync(settings, TimeSpan.FromSeconds(120));
        var clock = Stopwatch.StartNew();
        while (!worker.Output.Contains("StreamSeq worker ready", StringComparison.Ordinal) && clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            await Task.Delay(200);
        }

        var output = worker.Output;
        var line = output.Split('\n').FirstOrDefault(l => l.Contains("StreamSeq worker ready", StringComparison.Ordinal));
        Assert.True(line is not null, $"no ready line:\n{output}");
        Assert.DoesNotContain("dashboard", line, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("; API, health and metrics on ", line, StringComparison.Ordinal);
        Assert.Contains(worker.Url, line, StringComparison.Ordinal);
    }
}
