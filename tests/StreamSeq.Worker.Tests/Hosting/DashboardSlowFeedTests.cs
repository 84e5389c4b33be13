using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Hosting;

/// <summary>
/// One worker process on the embedded broker whose stream list is large (many streams with long ids), so that each push
/// of <c>/api/dashboard/events</c> is a few hundred kilobytes and a connection nobody reads fills its buffers in seconds.
/// One live feed at most, and a short <c>FeedWriteTimeout</c>.
/// </summary>
public sealed class SlowFeedWorker : IDisposable
{
    /// <summary>Streams produced, each with an id of about 900 bytes: about 360 KB per push of the list.</summary>
    public const int Streams = 300;

    private readonly Scratch scratch = new("streamseq-slowfeed-");
    private readonly KafkaTestBed bed = new("slowfeed");

    public SlowFeedWorker()
    {
        var time = TestInput.Start.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var input = Enumerable.Range(0, Streams)
            .Select(i => (string.Create(CultureInfo.InvariantCulture, $"slow-feed-{i:D3}-") + new string('x', 900), $"{{\"time\":\"{time}\",\"values\":[{20 + i}]}}"))
            .ToList();
        bed.Produce(input);
        var settings = bed.WorkerSettings("slowfeed-1");
        settings["Dashboard"] = new JsonObject { ["Enabled"] = true, ["MaxLiveFeeds"] = 1, ["FeedWriteTimeout"] = "00:00:02" };
        Worker = WorkerProcess.Start(settings, scratch.File("slowfeed"));
        if (!Worker.WaitReady(TimeSpan.FromSeconds(90)))
        {
            throw new InvalidOperationException(Worker.Logs());
        }

        bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(90), Worker.Logs);
    }

    internal WorkerProcess Worker { get; }

    public void Dispose()
    {
        Worker.Dispose();
        bed.Dispose();
        scratch.Dispose();
    }
}

/// <summary>Live feeds whose client stops reading: they must not hold their slot.</summary>
public sealed class DashboardSlowFeedTests(SlowFeedWorker fixture) : IClassFixture<SlowFeedWorker>
{
    [Fact]
    public async Task LiveFeed_ClientStopsReading_ConnectionAbortedAndSlotComesBack()
    {
        // A client that connected and then stopped reading used to hold its slot for as long as Kestrel's minimum
        // response rate allowed for the bytes already buffered for it (240 B/s: many minutes for a few hundred KB), so
        // MaxLiveFeeds such clients locked every page out of the live dashboard.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var root = $"http://127.0.0.1:{fixture.Worker.Port}";
        Integration.ExactlyOnceTests.WaitUntil(() => Status(http).GetProperty("streams").GetInt32() == SlowFeedWorker.Streams, "the dashboard to track every stream", seconds: 60);

        // A raw connection with a small receive window that sends its request and never reads.
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(IPAddress.Loopback, fixture.Worker.Port);
        await stalled.SendAsync(Encoding.ASCII.GetBytes($"GET /api/dashboard/events HTTP/1.1\r\nHost: 127.0.0.1:{fixture.Worker.Port}\r\nAccept: text/event-stream\r\n\r\n"));
        Integration.ExactlyOnceTests.WaitUntil(() => Status(http).GetProperty("liveFeeds").GetInt32() == 1, "the stalled client to take the only live-feed slot", seconds: 30);

        // Its buffers fill within seconds; the push that cannot complete within FeedWriteTimeout (2 s) ends the feed.
        // The deadline is generous (a noisy machine), yet far below what the rate limit alone would allow.
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var next = await http.GetAsync(new Uri($"{root}/api/dashboard/stream/events?id=slow-feed-000-{new string('x', 900)}"), HttpCompletionOption.ResponseHeadersRead);
            if (next.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, next.StatusCode);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), $"the stalled live feed still holds its slot after {clock.Elapsed}");
            await Task.Delay(500);
        }

        // The page above went away too: no slot is left taken, and the stalled one was counted as dropped.
        Integration.ExactlyOnceTests.WaitUntil(() => Status(http).GetProperty("liveFeeds").GetInt32() == 0, "every live feed's slot to come back", seconds: 60);
        Assert.Equal(1, Status(http).GetProperty("slowFeedsDropped").GetInt64());
        Integration.ExactlyOnceTests.WaitUntil(() => fixture.Worker.Logs().Contains("Dashboard live feed /api/dashboard/events to 127.0.0.1 dropped", StringComparison.Ordinal), "the drop to be logged", seconds: 30);

        // The server closed the stalled connection: reading it to its end terminates (data, then end of stream or reset).
        stalled.ReceiveTimeout = 30_000;
        var buffer = new byte[64 * 1024];
        try
        {
            while (stalled.Receive(buffer) > 0)
            {
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }

        Assert.False(fixture.Worker.HasExited, fixture.Worker.Logs());
    }

    private JsonElement Status(HttpClient http)
    {
        var body = http.GetStringAsync(new Uri($"http://127.0.0.1:{fixture.Worker.Port}/api/dashboard/streams?limit=1")).GetAwaiter().GetResult();
        return JsonDocument.Parse(body).RootElement.GetProperty("dashboard").Clone();
    }
}
