using System.Globalization;
using System.Reactive.Concurrency;
using System.Text.Json;
using StreamSeq.Processing.Alerts;
using StreamSeq.Testing;

namespace StreamSeq.Processing.Tests.Alerts;

/// <summary>The Alertmanager webhook against a real HTTP receiver on 127.0.0.1.</summary>
public sealed class AlertmanagerSinkTests
{
    private static readonly DateTimeOffset EmittedAt = new(2026, 12, 4, 12, 30, 0, TimeSpan.Zero);

    private static AlertNotification Alert(string stream, string rule = "surprise") =>
        new(stream, "room", rule, 7.25, 3, "2026-01-01T00:05:00Z", "[31.2]", "[21.4]", EmittedAt);

    private static AlertmanagerSinkOptions Options(LocalHttpReceiver receiver) => new()
    {
        Url = receiver.Url("/api/v2/alerts"),
        Labels = new Dictionary<string, string> { ["severity"] = "warning", ["cluster"] = "eu-1", ["stream"] = "ignored" },
        GeneratorBaseUrl = new Uri("http://streamseq.example:8080/base"),
        ResolveAfter = TimeSpan.FromMinutes(5),
    };

    [Fact]
    public async Task SendAsync_Batch_PostsAlertmanagerV2AlertsAsAJsonArray()
    {
        using var receiver = new LocalHttpReceiver();
        using var client = new HttpClient();
        var sink = new AlertmanagerSink(client, Options(receiver));
        await sink.SendAsync([Alert("temperature-0001"), Alert("position/7", "nis")], CancellationToken.None);

        var request = Assert.Single(receiver.Requests);
        Assert.Equal(("POST", "/api/v2/alerts"), (request.Method, request.Path));
        Assert.StartsWith("application/json", request.ContentType, StringComparison.Ordinal);
        var alerts = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal(JsonValueKind.Array, alerts.ValueKind);
        Assert.Equal(2, alerts.GetArrayLength());

        var first = alerts[0];
        Assert.Equal(["labels", "annotations", "startsAt", "endsAt", "generatorURL"], first.EnumerateObject().Select(p => p.Name));
        var labels = first.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(
            new Dictionary<string, string?> { ["alertname"] = "StreamSeqAnomaly", ["stream"] = "temperature-0001", ["model"] = "room", ["rule"] = "surprise", ["severity"] = "warning", ["cluster"] = "eu-1" },
            labels);
        var annotations = first.GetProperty("annotations");
        Assert.All(annotations.EnumerateObject(), p => Assert.Equal(JsonValueKind.String, p.Value.ValueKind));
        Assert.Equal("7.25", annotations.GetProperty("score").GetString());
        Assert.Equal("3", annotations.GetProperty("threshold").GetString());
        Assert.Equal("2026-01-01T00:05:00Z", annotations.GetProperty("time").GetString());
        Assert.Contains("temperature-0001", annotations.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal(EmittedAt, DateTimeOffset.Parse(first.GetProperty("startsAt").GetString()!, CultureInfo.InvariantCulture));
        Assert.Equal(EmittedAt.AddMinutes(5), DateTimeOffset.Parse(first.GetProperty("endsAt").GetString()!, CultureInfo.InvariantCulture));
        Assert.EndsWith("Z", first.GetProperty("startsAt").GetString(), StringComparison.Ordinal);
        Assert.Equal("http://streamseq.example:8080/base/stream.html?id=temperature-0001", first.GetProperty("generatorURL").GetString());
        Assert.Equal("http://streamseq.example:8080/base/stream.html?id=position%2F7", alerts[1].GetProperty("generatorURL").GetString());
        Assert.Equal("nis", alerts[1].GetProperty("labels").GetProperty("rule").GetString());
    }

    [Theory]
    [InlineData(503, true)]
    [InlineData(500, true)]
    [InlineData(429, true)]
    [InlineData(408, true)]
    [InlineData(400, false)]
    [InlineData(404, false)]
    public async Task SendAsync_ErrorStatus_FailsTransientOnlyWhenARetryCanHelp(int status, bool transient)
    {
        using var receiver = new LocalHttpReceiver(_ => status);
        using var client = new HttpClient();
        var sink = new AlertmanagerSink(client, Options(receiver));
        var error = await Assert.ThrowsAsync<AlertDeliveryException>(() => sink.SendAsync([Alert("s")], CancellationToken.None));
        Assert.Equal(transient, error.Transient);
        Assert.Contains($"HTTP {status}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_ReceiverHangs_TimesOutAsATransientFailure()
    {
        using var receiver = new LocalHttpReceiver(_ => null);
        using var client = new HttpClient { Timeout = TimeSpan.FromMilliseconds(500) };
        var sink = new AlertmanagerSink(client, Options(receiver));
        var error = await Assert.ThrowsAsync<AlertDeliveryException>(() => sink.SendAsync([Alert("s")], CancellationToken.None));
        Assert.True(error.Transient);
        Assert.Contains("no answer within 0.5 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_NobodyListening_FailsTransient()
    {
        Uri url;
        using (var receiver = new LocalHttpReceiver())
        {
            url = receiver.Url("/api/v2/alerts");
        }

        using var client = new HttpClient();
        var sink = new AlertmanagerSink(client, new AlertmanagerSinkOptions { Url = url });
        var error = await Assert.ThrowsAsync<AlertDeliveryException>(() => sink.SendAsync([Alert("s")], CancellationToken.None));
        Assert.True(error.Transient);
    }

    /// <summary>The dispatcher in real time over the real sink: a receiver that hangs, then fails, then recovers gets every alert once.</summary>
    [Fact]
    public async Task Dispatcher_ReceiverHangsThenFailsThenRecovers_EveryAlertArrivesOnce()
    {
        using var receiver = new LocalHttpReceiver(n => n switch { 1 => null, 2 => 503, _ => 200 });

        // The timeout only has to end the request the receiver never answers; any answered request that took longer
        // (300 ms did on a loaded machine) would be sent again after the receiver took it, and arrive twice.
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        var options = new AlertDispatcherOptions { MaxBatchSize = 7, BatchInterval = TimeSpan.FromMilliseconds(50), MaxAttempts = 4, RetryBackoff = TimeSpan.FromMilliseconds(50), MaxRequestsPerSecond = 50 };
        using var dispatcher = new AlertDispatcher(new AlertmanagerSink(client, Options(receiver)), options, TaskPoolScheduler.Default);
        for (var i = 0; i < 20; i++)
        {
            Assert.True(dispatcher.Offer(Alert($"s{i:D2}")));
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await dispatcher.CompleteAsync(deadline.Token);

        var delivered = receiver.Requests.Where(r => r.Status == 200)
            .SelectMany(r => JsonDocument.Parse(r.Body).RootElement.EnumerateArray().Select(a => a.GetProperty("labels").GetProperty("stream").GetString()))
            .ToList();
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"s{i:D2}"), delivered);
        Assert.Equal((20L, 0L, 0L), (dispatcher.Sent, dispatcher.Failed, dispatcher.Dropped));
        Assert.Equal([null, 503], receiver.Requests.OrderBy(r => r.Number).Take(2).Select(r => r.Status));
    }
}
