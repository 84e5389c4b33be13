using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using StreamSeq.Worker.Tests.Browser;
using Xunit.Abstractions;

namespace StreamSeq.Worker.Tests.Dashboard;

/// <summary>
/// End to end: the worker runs as its own process on the embedded broker with a fast, fault-heavy simulator; a
/// headless Chromium opens the dashboard, follows the stream list to a stream with anomalies and checks what the page
/// shows (rows, models, values, chart series, anomaly markers drawn on the canvas, the anomaly table) against the
/// worker's own API. Skipped only when Chromium is not installed (CI installs Debian's chromium package).
/// </summary>
public sealed partial class DashboardBrowserTests(ITestOutputHelper output)
{
    private const int Width = 1400;
    private const int Height = 1000;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private static readonly Dictionary<string, string> Settings = new()
    {
        ["StreamSeq:Dashboard:Enabled"] = "true",
        ["StreamSeq:Embedded:Streams"] = "6",
        ["StreamSeq:Embedded:Pace"] = "00:00:00.020",
        ["StreamSeq:Embedded:FaultRate"] = "0.03",
        ["StreamSeq:Embedded:SummaryInterval"] = "00:01:00",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    // The worker's default routes: stream id prefix -> model.
    private static readonly Dictionary<string, string> ModelOfPrefix = new()
    {
        ["temperature"] = "room-temperature",
        ["position"] = "position-2d",
        ["pressure"] = "pressure",
    };

    [SkippableFact]
    public async Task Dashboard_WorkerOnEmbeddedBroker_ShowsStreamsAndALiveChartWithAnomalyMarkers()
    {
        var chromium = HeadlessChromium.FindExecutable();
        Skip.If(chromium is null, "chromium is not installed (CI installs Debian's 'chromium' package); this test drives the dashboard in a headless browser.");
        var clock = Stopwatch.StartNew();
        await using var worker = await EmbeddedWorkerProcess.StartAsync(Settings, Patience);
        output.WriteLine($"worker up at {worker.Url} after {clock.Elapsed.TotalSeconds:F1} s");
        await using var browser = await HeadlessChromium.StartAsync(chromium!, Width, Height, TimeSpan.FromSeconds(30));
        try
        {
            await Run(worker, browser, clock);
        }
        catch (Exception e) when (e is not SkipException)
        {
            throw new InvalidOperationException($"{e.Message}\n--- page console: [{string.Join(" | ", browser.ConsoleMessages)}]\n--- worker output:\n{worker.Output}", e);
        }
    }

    private async Task Run(EmbeddedWorkerProcess worker, HeadlessChromium browser, Stopwatch clock)
    {
        // The stream list: every simulated stream, routed to its model, with a numeric last value.
        await browser.NavigateAsync($"{worker.Url}/?sort=anomalies", TimeSpan.FromSeconds(30));
        await browser.WaitForAsync("document.querySelectorAll('#streams tbody tr').length === 6", Patience, "six rows in the stream list");
        await browser.WaitForAsync("[...document.querySelectorAll('#streams tbody tr')].some(r => Number(r.querySelector('.anomalies').textContent) > 0)", Patience, "a stream with an anomaly in the list");
        var rows = await browser.EvaluateAsync(
            "[...document.querySelectorAll('#streams tbody tr')].map(r => ({ id: r.dataset.stream, link: r.querySelector('a').getAttribute('href'), " +
            "cells: [...r.children].map(c => c.textContent) }))");
        output.WriteLine($"stream list after {clock.Elapsed.TotalSeconds:F1} s: {rows.GetRawText()}");
        var api = JsonDocument.Parse(await Get(worker, "/api/dashboard/streams")).RootElement;
        var apiIds = api.GetProperty("streams").EnumerateArray().Select(s => s.GetProperty("id").GetString()!).Order(StringComparer.Ordinal).ToList();
        var pageIds = rows.EnumerateArray().Select(r => r.GetProperty("id").GetString()!).ToList();
        Assert.Equal(apiIds, pageIds.Order(StringComparer.Ordinal).ToList());
        var withAnomalies = new List<string>();
        var numericRows = 0;
        foreach (var row in rows.EnumerateArray())
        {
            var id = row.GetProperty("id").GetString()!;
            var cells = row.GetProperty("cells").EnumerateArray().Select(c => c.GetString()!).ToArray();
            var match = StreamIdPattern().Match(id);
            Assert.True(match.Success, $"unexpected stream id '{id}'");
            Assert.Equal(id, cells[0]);
            Assert.Equal(ModelOfPrefix[match.Groups[1].Value], cells[1]);
            // A number per component, or the dash the list shows for a missing reading (the simulator's gaps send NaN).
            Assert.All(cells[2].Split(", "), v => Assert.True(v == "\u2013" || double.TryParse(v, CultureInfo.InvariantCulture, out _), $"last value '{cells[2]}' of {id} is neither numeric nor the missing-reading dash"));
            numericRows += cells[2].Contains('\u2013', StringComparison.Ordinal) ? 0 : 1;
            Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", cells[3]);
            Assert.Contains("NIS", cells[5], StringComparison.Ordinal);
            if (int.Parse(cells[4], CultureInfo.InvariantCulture) > 0)
            {
                withAnomalies.Add(id);
            }
        }

        Assert.True(numericRows > 0, "no stream in the list shows a numeric last value");

        // Prefer a one-dimensional stream (its chart needs no component choice).
        var chosen = withAnomalies.FirstOrDefault(id => !id.StartsWith("position", StringComparison.Ordinal)) ?? withAnomalies[0];
        var listShot = await browser.ScreenshotAsync();
        Save("dashboard-streams.png", listShot);

        // Follow the list's link to the stream page and wait for the live chart to fill.
        var link = rows.EnumerateArray().First(r => r.GetProperty("id").GetString() == chosen).GetProperty("link").GetString()!;
        await browser.NavigateAsync($"{worker.Url}/{link}", TimeSpan.FromSeconds(30));
        await browser.WaitForAsync(
            "(() => { const d = document.getElementById('chart').dataset; return +d.observations >= 60 && +d.filtered >= 60 && +d.smoothed >= 30 && +d.forecasts >= 2 && +d.anomalies >= 1; })()",
            Patience,
            $"the chart of {chosen} to show readings, filtered and smoothed lines, forecasts and an anomaly marker");
        output.WriteLine($"chart of {chosen} filled after {clock.Elapsed.TotalSeconds:F1} s");

        // Let a few live updates arrive, then read the page.
        var before = (await browser.EvaluateAsync("+document.getElementById('chart').dataset.observations")).GetInt32();
        await browser.WaitForAsync($"+document.getElementById('chart').dataset.observations > {before} || +document.getElementById('chart').dataset.observations >= 700", Patience, "live updates to extend the chart");
        var page = await browser.EvaluateAsync(
            """
            (() => {
              const canvas = document.querySelector('#chart canvas');
              const ctx = canvas.getContext('2d');
              const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
              const near = (r, g, b) => { let n = 0; for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i] - r) < 40 && Math.abs(px[i + 1] - g) < 40 && Math.abs(px[i + 2] - b) < 40 && px[i + 3] > 200) n++; return n; };
              return {
                title: document.getElementById('stream-id').textContent,
                model: document.getElementById('model').textContent,
                anomalyCount: document.getElementById('anomaly-count').textContent,
                lastValue: document.getElementById('last-value').textContent,
                health: document.getElementById('health').textContent,
                dataset: { ...document.getElementById('chart').dataset },
                legend: [...document.querySelectorAll('.u-legend .u-series:not(.band-bound) .u-label')].map(e => e.textContent),
                anomalyRules: [...document.querySelectorAll('#anomalies tbody tr')].map(r => r.children[3].textContent),
                redPixels: near(214, 39, 40),
                bluePixels: near(31, 119, 180),
                resources: performance.getEntriesByType('resource').map(e => e.name),
              };
            })()
            """);
        output.WriteLine(page.GetRawText());
        var history = JsonDocument.Parse(await Get(worker, $"/api/dashboard/stream?id={Uri.EscapeDataString(chosen)}")).RootElement;
        Assert.Equal(chosen, page.GetProperty("title").GetString());
        Assert.StartsWith(history.GetProperty("model").GetString()!, page.GetProperty("model").GetString(), StringComparison.Ordinal);
        Assert.Contains($"lag {history.GetProperty("lag").GetInt32()}", page.GetProperty("model").GetString(), StringComparison.Ordinal);
        Assert.True(int.Parse(page.GetProperty("anomalyCount").GetString()!, CultureInfo.InvariantCulture) >= 1);
        Assert.True(double.TryParse(page.GetProperty("lastValue").GetString()!.Split(", ")[0], CultureInfo.InvariantCulture, out _));
        Assert.Contains("NIS", page.GetProperty("health").GetString(), StringComparison.Ordinal);
        var legend = page.GetProperty("legend").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("observations", legend);
        Assert.Contains("filtered mean", legend);
        Assert.Contains($"smoothed (lag {history.GetProperty("lag").GetInt32()})", legend);
        Assert.Contains("forecast", legend);
        Assert.Contains("anomalies", legend);
        var rules = page.GetProperty("anomalyRules").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.NotEmpty(rules);
        Assert.All(rules, r => Assert.Equal("surprise", r));

        // The markers and lines are really drawn: the canvas holds the anomaly red and the filtered blue.
        Assert.True(page.GetProperty("redPixels").GetInt32() > 30, $"no anomaly markers drawn: {page.GetProperty("redPixels").GetInt32()} red pixels");
        Assert.True(page.GetProperty("bluePixels").GetInt32() > 200, $"no filtered line drawn: {page.GetProperty("bluePixels").GetInt32()} blue pixels");

        // Offline: every resource the page loaded came from the worker itself.
        Assert.All(page.GetProperty("resources").EnumerateArray(), r => Assert.StartsWith(worker.Url + "/", r.GetString(), StringComparison.Ordinal));
        Assert.Empty(browser.ConsoleMessages);

        var shot = await browser.ScreenshotAsync();
        Assert.Equal((Width, Height), PngImage.Size(shot));
        var path = Save("dashboard.png", shot);
        output.WriteLine($"screenshot {path} after {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static async Task<string> Get(EmbeddedWorkerProcess worker, string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return await http.GetStringAsync(new Uri(worker.Url + path));
    }

    /// <summary>Saves a screenshot under TestResults next to the tests, or into $STREAMSEQ_SCREENSHOTS when set.</summary>
    private static string Save(string name, byte[] png)
    {
        var dir = Environment.GetEnvironmentVariable("STREAMSEQ_SCREENSHOTS") is { Length: > 0 } configured
            ? configured
            : Path.Combine(AppContext.BaseDirectory, "TestResults");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, png);
        return path;
    }

    [GeneratedRegex("^(temperature|position|pressure)-[0-9]{4}$")]
    private static partial Regex StreamIdPattern();
}
