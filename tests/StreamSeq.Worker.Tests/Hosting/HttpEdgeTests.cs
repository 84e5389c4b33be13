using System.Globalization;
using System.Net;
using System.Text.Json;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Hosting;

/// <summary>One worker process on the embedded broker, with the dashboard on, for the requests below.</summary>
public sealed class HttpEdgeWorker : IDisposable
{
    private readonly Scratch scratch = new("streamseq-http-");
    private readonly KafkaTestBed bed = new("http");

    public HttpEdgeWorker()
    {
        var input = Enumerable.Range(0, 10)
            .Select(t => ("sensor-1", $"{{\"time\":\"{TestInput.Start.AddMinutes(t).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}\",\"values\":[{20 + t}]}}"))
            .ToList();
        bed.Produce(input);
        var settings = bed.WorkerSettings("http-1");
        settings["Dashboard"] = new System.Text.Json.Nodes.JsonObject { ["Enabled"] = true, ["MaxLiveFeeds"] = MaxLiveFeeds };
        Worker = WorkerProcess.Start(settings, scratch.File("http"));
        if (!Worker.WaitReady(TimeSpan.FromSeconds(90)))
        {
            throw new InvalidOperationException(Worker.Logs());
        }

        bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(90), Worker.Logs);
    }

    /// <summary>Small enough for a test to open one live feed more than the worker serves.</summary>
    public const int MaxLiveFeeds = 2;

    internal WorkerProcess Worker { get; }

    /// <summary>Sends a request with the target exactly as given (no normalisation of dot segments or escapes).</summary>
    public (int Status, string? ContentType, string Body, string? Allow) Send(string method, string target)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri($"http://127.0.0.1:{Worker.Port}{target}", new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));
        using var response = http.Send(request, HttpCompletionOption.ResponseHeadersRead);
        var body = method == "HEAD" ? string.Empty : response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body, response.Content.Headers.Allow.Count > 0 ? string.Join(",", response.Content.Headers.Allow) : null);
    }

    public void Dispose()
    {
        Worker.Dispose();
        bed.Dispose();
        scratch.Dispose();
    }
}

/// <summary>Requests an adversary (or a confused client) sends to the worker's port: never a 500, always a short reason.</summary>
public sealed class HttpEdgeTests(HttpEdgeWorker fixture) : IClassFixture<HttpEdgeWorker>
{
    private static readonly string[] ReadEndpoints =
    [
        "/health/live", "/health/ready", "/metrics", "/api/status", "/api/models", "/api/streams/sensor-1",
        "/api/dashboard/streams", "/api/dashboard/stream?id=sensor-1", "/", "/index.html", "/stream.html?id=sensor-1",
        "/css/dashboard.css",
    ];

    [Fact]
    public void WriteMethods_OnEveryReadEndpoint_405WithAllowGetHead()
    {
        foreach (var path in ReadEndpoints)
        {
            foreach (var method in (string[])["POST", "PUT", "DELETE", "PATCH"])
            {
                // The health checks and /metrics used to answer every method with 200, the pages with 404.
                var (status, _, body, allow) = fixture.Send(method, path);
                Assert.True(status == 405, $"{method} {path} answered {status}: {body}");
                Assert.Equal("GET,HEAD", allow);
            }
        }

        AssertStillReady();
    }

    [Fact]
    public void Head_OnEveryReadEndpointAndTheEventStreams_AnswersLikeGetWithoutABody()
    {
        // The API and dashboard JSON used to answer HEAD with 405.
        foreach (var path in ReadEndpoints)
        {
            var get = fixture.Send("GET", path);
            var head = fixture.Send("HEAD", path);
            Assert.True(head.Status == get.Status, $"HEAD {path} answered {head.Status}, GET {get.Status}");
            Assert.Equal(get.ContentType, head.ContentType);
        }

        // HEAD on an event stream returns its headers and ends, instead of holding the connection open.
        foreach (var path in (string[])["/api/dashboard/events", "/api/dashboard/stream/events?id=sensor-1"])
        {
            var head = fixture.Send("HEAD", path);
            Assert.Equal((200, "text/event-stream"), (head.Status, head.ContentType));
        }
    }

    [Theory]
    [InlineData("/api/streams/%FF", "not valid UTF-8")]
    [InlineData("/api/streams/sensor-1%C3%28", "not valid UTF-8")]
    [InlineData("/api/streams/%E2%82", "not valid UTF-8")]
    [InlineData("/api/streams/%zz", "'%' at position 0")]
    [InlineData("/api/streams/sensor-1%", "'%' at position 8")]
    [InlineData("/api/streams", "missing")]
    [InlineData("/api/streams/", "missing")]
    [InlineData("/API/STREAMS/%FF", "not valid UTF-8")]
    [InlineData("/Api/Streams/sensor-1%", "'%' at position 8")]
    public void Streams_IdThatNoStreamCanHave_400NamingTheStreamId(string target, string reason)
    {
        // Invalid escapes and UTF-8 used to be kept as literal text ('%FF' looked up as the stream "%FF"), an empty id
        // was a 404 about the stream ''. Routing ignores the path's case: under /API/STREAMS/ the id used to be the
        // routed value, decoded leniently ('%FF' again the stream "%FF", '%2F' left as the text '%2F').
        var (status, type, body, _) = fixture.Send("GET", target);
        Assert.True(status == 400, $"{target} answered {status}: {body}");
        Assert.Equal("application/json", type);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;
        Assert.StartsWith("stream id (the path after /api/streams/)", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        AssertStillReady();
    }

    [Fact]
    public void Streams_HugeIds_400Or414NeverAnEchoOfTheWholeId()
    {
        // Over the 1 KiB a Kafka key may have: no stream can have it (it used to be looked up and echoed in a 404).
        var (status, _, body, _) = fixture.Send("GET", "/api/streams/" + new string('a', 5000));
        Assert.Equal(400, status);
        Assert.Contains("longer than 1024 bytes", body, StringComparison.Ordinal);
        Assert.True(body.Length < 300, body);
        Assert.Equal(400, fixture.Send("GET", "/api/dashboard/stream?id=" + new string('a', 5000)).Status);

        // 100 KB: over Kestrel's request line limit.
        Assert.Equal(414, fixture.Send("GET", "/api/streams/" + new string('a', 100_000)).Status);

        // A NUL in the path is refused by the server before routing; control characters are ids like any other.
        Assert.Equal(400, fixture.Send("GET", "/api/streams/%00sensor-1").Status);
        Assert.Equal(404, fixture.Send("GET", "/api/streams/%01%1B").Status);
        AssertStillReady();
    }

    [Fact]
    public void Streams_ValidIdsThroughEveryEncoding_StillFound()
    {
        Assert.Equal(200, fixture.Send("GET", "/api/streams/sensor-1").Status);
        Assert.Equal(200, fixture.Send("GET", "/api/streams/sensor%2D1").Status);
        Assert.Equal(200, fixture.Send("GET", "/api/dashboard/stream?id=sensor%2D1").Status);

        // Dot segments are resolved by the server before routing (RFC 3986), never into a stream id that escapes.
        Assert.Equal(200, fixture.Send("GET", "/api/streams/../status").Status);
        var dots = fixture.Send("GET", "/api/streams/%2e%2e%2fstatus");
        Assert.Equal(404, dots.Status);
        Assert.Contains("'../status'", JsonDocument.Parse(dots.Body).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/dashboard/stream?id=%FF", "id: not valid UTF-8")]
    [InlineData("/api/dashboard/stream?id=%00x", "id: stream ids never start with a NUL")]
    [InlineData("/api/dashboard/stream?id=a&id=b", "id: given 2 times")]
    [InlineData("/api/dashboard/stream", "id: missing")]
    [InlineData("/api/dashboard/stream/events", "id: missing")]
    [InlineData("/api/dashboard/stream/events?id=%zz", "id: '%' at position 0")]
    [InlineData("/api/dashboard/streams?limit=-1", "limit: '-1' is not a whole number from 1 to 5000")]
    [InlineData("/api/dashboard/streams?limit=0", "limit: '0'")]
    [InlineData("/api/dashboard/streams?limit=abc", "limit: 'abc'")]
    [InlineData("/api/dashboard/streams?limit=99999999999", "limit: '99999999999'")]
    [InlineData("/api/dashboard/streams?limit=5001", "limit: '5001'")]
    [InlineData("/api/dashboard/streams?limit=1&limit=2", "limit: given 2 times")]
    [InlineData("/api/dashboard/streams?sort=bogus", "sort: 'bogus' is not one of id, anomalies, recent")]
    [InlineData("/api/dashboard/events?limit=1e3", "limit: '1e3'")]
    [InlineData("/api/dashboard/events?sort=%00", "sort: '\u0000'")]
    public void Dashboard_AbsurdParameters_400WithJsonNamingTheParameter(string target, string reason)
    {
        // These used to fall back silently to the defaults (limit 500, sort by id), or answer 400 with an empty body.
        var (status, type, body, _) = fixture.Send("GET", target);
        Assert.True(status == 400, $"{target} answered {status}: {body}");
        Assert.Equal("application/json", type);
        Assert.StartsWith(reason, JsonDocument.Parse(body).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_OneLiveFeedMoreThanMaxLiveFeeds_503UntilOneCloses()
    {
        // Every live feed used to be accepted: each holds a buffer and a task for as long as it stays open.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var root = $"http://127.0.0.1:{fixture.Worker.Port}";
        var open = new List<HttpResponseMessage>();
        try
        {
            open.Add(await http.GetAsync(new Uri($"{root}/api/dashboard/events"), HttpCompletionOption.ResponseHeadersRead));
            open.Add(await http.GetAsync(new Uri($"{root}/api/dashboard/stream/events?id=sensor-1"), HttpCompletionOption.ResponseHeadersRead));
            Assert.All(open, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));

            foreach (var path in (string[])["/api/dashboard/events", "/api/dashboard/stream/events?id=sensor-1"])
            {
                using var refused = await http.GetAsync(new Uri(root + path), HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
                Assert.Equal("application/json", refused.Content.Headers.ContentType?.MediaType);
                var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
                Assert.StartsWith("2 live feeds are open on this worker's dashboard, the most it serves at once", error, StringComparison.Ordinal);
            }

            Assert.Equal(HttpEdgeWorker.MaxLiveFeeds, LiveFeeds());

            // A page goes away: its slot comes back once the worker notices, and a new page is let in.
            open[0].Dispose();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                var next = await http.GetAsync(new Uri($"{root}/api/dashboard/events"), HttpCompletionOption.ResponseHeadersRead);
                if (next.StatusCode == HttpStatusCode.OK)
                {
                    open.Add(next);
                    break;
                }

                next.Dispose();
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the closed live feed's slot never came back");
                await Task.Delay(200);
            }
        }
        finally
        {
            open.ForEach(r => r.Dispose());
        }

        // Every slot comes back when its page goes away.
        Integration.ExactlyOnceTests.WaitUntil(() => LiveFeeds() == 0, "every live feed's slot to come back", seconds: 60);
        AssertStillReady();
    }

    [Fact]
    public void Dashboard_DocumentedParameters_StillAnswer()
    {
        var list = JsonDocument.Parse(fixture.Send("GET", "/api/dashboard/streams?sort=recent&limit=1&filter=sensor").Body).RootElement;
        Assert.Equal("sensor-1", list.GetProperty("streams")[0].GetProperty("id").GetString());
        Assert.Equal(200, fixture.Send("GET", "/api/dashboard/streams?limit=5000&sort=anomalies").Status);
    }

    private int LiveFeeds() =>
        JsonDocument.Parse(fixture.Send("GET", "/api/dashboard/streams?limit=1").Body).RootElement.GetProperty("dashboard").GetProperty("liveFeeds").GetInt32();

    private void AssertStillReady()
    {
        Assert.False(fixture.Worker.HasExited, fixture.Worker.Logs());
        Assert.Equal(HttpStatusCode.OK, (HttpStatusCode)fixture.Worker.Get("/health/ready").Status);
    }
}
