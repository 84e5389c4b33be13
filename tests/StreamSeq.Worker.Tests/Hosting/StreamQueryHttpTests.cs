using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using StreamSeq.Kafka.Embedded;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Hosting;

/// <summary>
/// <c>/api/streams/{id}</c> when the processing loop cannot answer: its commit hangs on a broker that keeps refusing to
/// end the transaction (as in <see cref="LivenessTests"/>), it has not started, or the worker stops. The request never
/// waits past <c>StreamSeq:Api:QueryTimeout</c> and is a 503 with <c>Retry-After</c> that says why.
/// </summary>
public sealed class StreamQueryHttpTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly Scratch scratch = new("streamseq-query-");

    public void Dispose() => scratch.Dispose();

    [Fact]
    public async Task Streams_LoopHeldUpInACommit_503WithinTheBoundThenQueueFullThenAnswersAgain()
    {
        using var bed = new KafkaTestBed("query-http");
        using var worker = Start(bed, "held-1", queryTimeout: "1s", maxPendingQueries: 2);
        bed.Produce(Readings(0, 10));
        bed.WaitForFiltered(10, Patience, worker.Logs);
        Assert.Equal(200, (await Get(worker, "/api/streams/sensor-1")).Status);

        HoldCommits(bed);
        bed.Produce(Readings(10, 10));

        // Answered between records until the loop reaches its commit; then the request ends at the bound. It used to
        // wait until the commit went through, or for ever.
        var clock = Stopwatch.StartNew();
        var answer = await Get(worker, "/api/streams/sensor-1");
        while (answer.Status == 200)
        {
            Assert.True(clock.Elapsed < Patience, "the loop never held up");
            await Task.Delay(200);
            answer = await Get(worker, "/api/streams/sensor-1");
        }

        Assert.True(answer.Status == 503, $"{answer.Status}: {answer.Error}");
        Assert.Equal(TimeSpan.FromSeconds(5), answer.RetryAfter);
        Assert.StartsWith("the processing loop has not answered within 1 s: ", answer.Error, StringComparison.Ordinal);
        Assert.EndsWith("; retry later.", answer.Error, StringComparison.Ordinal);

        // The timed-out query keeps its place until the loop takes it: of three more, one fits and the others are
        // refused at once; while the loop stays held, so is the next.
        var more = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Get(worker, "/api/streams/sensor-1")));
        Assert.All(more, a => Assert.Equal(503, a.Status));
        Assert.Equal(2, more.Count(a => a.Error.StartsWith("2 queries already wait for the processing loop", StringComparison.Ordinal)));
        var full = await Get(worker, "/api/streams/sensor-1");
        Assert.Equal((503, TimeSpan.FromSeconds(5)), (full.Status, full.RetryAfter));
        Assert.StartsWith("2 queries already wait for the processing loop, which has not answered them: ", full.Error, StringComparison.Ordinal);

        // /api/status says how many wait (the refused ones not counted) and the bound; a worker without a simulator
        // shows none.
        var status = Status(worker);
        Assert.Equal((2, 2), (status["pendingQueries"]!.GetValue<int>(), status["maxPendingQueries"]!.GetValue<int>()));
        Assert.Null(status["simulator"]);

        // The commit goes through: the late answers to the abandoned queries go nowhere, and queries are answered again.
        bed.Cluster.ClearRequestErrors(KafkaApiKey.EndTxn);
        clock.Restart();
        while (await Get(worker, "/api/streams/sensor-1") is not { Status: 200 } latest || latest.Steps != 20)
        {
            Assert.True(clock.Elapsed < Patience, $"queries should be answered again once the commit went through:\n{worker.Logs()}");
            await Task.Delay(200);
        }

        Assert.False(worker.HasExited, worker.Logs());
        Assert.Equal(200, worker.Get("/health/live").Status);
        Assert.Equal(0, Status(worker)["pendingQueries"]!.GetValue<int>());
    }

    [Fact]
    public async Task Streams_QueryWaitingWhenTheWorkerStops_503AtOnceInsteadOfWaitingForTheLoop()
    {
        using var bed = new KafkaTestBed("query-stop");
        using var worker = Start(bed, "stop-1", queryTimeout: "5m", maxPendingQueries: 100);
        bed.Produce(Readings(0, 10));
        bed.WaitForFiltered(10, Patience, worker.Logs);
        HoldCommits(bed);
        bed.Produce(Readings(10, 10));

        // A request still unanswered after a few seconds waits for the held loop (the bound is five minutes).
        var clock = Stopwatch.StartNew();
        Task<Answer> pending;
        while (true)
        {
            Assert.True(clock.Elapsed < Patience, "the loop never held up");
            pending = Get(worker, "/api/streams/sensor-1", TimeSpan.FromMinutes(2));
            if (await Task.WhenAny(pending, Task.Delay(TimeSpan.FromSeconds(3))) != pending)
            {
                break;
            }

            Assert.Equal(200, (await pending).Status);
        }

        // SIGTERM: the loop is stuck in its commit for a while yet, but the request is answered as the worker begins to
        // stop (it used to wait for the loop to end, then got a 404 or a closed connection).
        var stopping = Task.Run(() => worker.Stop(Patience));
        var answer = await pending.WaitAsync(Patience);
        Assert.True(answer.Status == 503, $"{answer.Status}: {answer.Error}");
        Assert.Equal(TimeSpan.FromSeconds(5), answer.RetryAfter);
        Assert.StartsWith("the worker is shutting down; retry later", answer.Error, StringComparison.Ordinal);
        await stopping;
    }

    [Fact]
    public async Task Streams_LoopNotStartedBecauseTheBrokerIsUnreachable_503SayingSoNot404()
    {
        var settings = new JsonObject
        {
            ["Kafka"] = new JsonObject
            {
                ["BootstrapServers"] = $"127.0.0.1:{Scratch.FreePort()}",
                ["InstanceId"] = "unreachable-1",
                ["CreateTopics"] = false,
            },
            ["Models"] = new JsonArray(JsonNode.Parse(TestInput.Model)),
        };
        using var worker = WorkerProcess.Start(settings, scratch.File("unreachable"));
        var clock = Stopwatch.StartNew();
        while (worker.Get("/health/live").Status != 200)
        {
            Assert.True(clock.Elapsed < Patience && !worker.HasExited, $"the worker should answer while it waits for its broker:\n{worker.Logs()}");
            await Task.Delay(200);
        }

        // It used to answer 404 'stream is not owned by this worker', as if the stream did not exist.
        var answer = await Get(worker, "/api/streams/sensor-1");
        Assert.True(answer.Status == 503, $"{answer.Status}: {answer.Error}");
        Assert.Equal(TimeSpan.FromSeconds(5), answer.RetryAfter);
        Assert.StartsWith("the processing loop has not started yet (", answer.Error, StringComparison.Ordinal);
    }

    /// <summary>
    /// The model changed under its name between two runs: the stream is owned here, but its stored state is the earlier
    /// model's until its next record replaces it. Both stores answer 409 saying so; the memory store, which dropped such
    /// a state at the restore, answered 404 "not owned by this worker", sending the user to look for another worker.
    /// After the next record the stream answers 200 with the new model's state.
    /// </summary>
    [Theory]
    [InlineData("memory")]
    [InlineData("rocksdb")]
    public async Task Streams_StoredStateOfAnEarlierModel_409SayingSoUntilTheNextRecordThen200(string store)
    {
        using var bed = new KafkaTestBed($"query-superseded-{store}");
        JsonObject Settings(string model)
        {
            var settings = WorkerProcess.Settings(bed, "superseded-1", commitInterval: "00:00:00.200");
            settings["Processing"]!["StateStore"] = store;
            if (store == "rocksdb")
            {
                settings["Processing"]!["StateDirectory"] = scratch.File("state");
            }

            settings["Models"] = new JsonArray(JsonNode.Parse(model));
            return settings;
        }

        bed.Produce(Readings(0, 10));
        using (var first = WorkerProcess.Start(Settings(TestInput.Model), scratch.File("before")))
        {
            bed.WaitForFiltered(10, Patience, first.Logs);
            Assert.Equal(0, first.Stop(Patience));
        }

        using var worker = WorkerProcess.Start(Settings(Integration.ModelChangeTests.Trend), scratch.File("after"));
        Assert.True(worker.WaitReady(Patience), worker.Logs());
        var answer = await Get(worker, "/api/streams/sensor-1");
        Assert.True(answer.Status == 409, $"{answer.Status}: {answer.Error}\n{worker.Logs()}");
        Assert.Equal("stream 'sensor-1' is owned by this worker, but its stored state was written by an earlier model (model 'level' changed since the state was written); it has no state of the current model yet, and its next record replaces the stored state with one started from the model's prior.", answer.Error);

        // A stream never seen is still not owned here.
        Assert.Equal(404, (await Get(worker, "/api/streams/sensor-2")).Status);

        bed.Produce(Readings(10, 1));
        var clock = Stopwatch.StartNew();
        for (var latest = answer; latest.Status != 200; latest = await Get(worker, "/api/streams/sensor-1"))
        {
            Assert.True(latest.Status == 409 && clock.Elapsed < Patience, $"{latest.Status}: {latest.Error}\n{worker.Logs()}");
            await Task.Delay(200);
        }

        var replaced = await Get(worker, "/api/streams/sensor-1");
        Assert.Equal((200, 1L), (replaced.Status, replaced.Steps));
    }

    private static JsonNode Status(WorkerProcess worker)
    {
        var (code, body) = worker.Get("/api/status");
        Assert.True(code == 200, $"/api/status answered {code}: {body}");
        return JsonNode.Parse(body)!;
    }

    private WorkerProcess Start(KafkaTestBed bed, string instance, string queryTimeout, int maxPendingQueries)
    {
        var settings = bed.WorkerSettings(instance);
        settings["Api"] = new JsonObject { ["QueryTimeout"] = queryTimeout, ["MaxPendingQueries"] = maxPendingQueries };
        var worker = WorkerProcess.Start(settings, scratch.File(instance));
        Assert.True(worker.WaitReady(Patience), worker.Logs());
        return worker;
    }

    /// <summary>
    /// Every EndTxn request fails with an error the client retries on its own: the loop's next commit hangs (for up to
    /// eight transaction timeouts, longer than these tests) until the errors are cleared.
    /// </summary>
    private static void HoldCommits(KafkaTestBed bed) =>
        bed.Cluster.PushRequestErrors(KafkaApiKey.EndTxn, [.. Enumerable.Repeat(ErrorCode.ConcurrentTransactions, 5000)]);

    private static List<(string Stream, string Value)> Readings(int from, int count) =>
        [.. Enumerable.Range(from, count).Select(t => ("sensor-1", $"{{\"time\":\"{TestInput.Start.AddMinutes(t).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}\",\"values\":[{20 + t}]}}"))];

    /// <summary>A GET that fails the test if it is not answered within 30 s (far beyond the bounds these tests set).</summary>
    private static Task<Answer> Get(WorkerProcess worker, string path) => Get(worker, path, TimeSpan.FromSeconds(30));

    private static async Task<Answer> Get(WorkerProcess worker, string path, TimeSpan timeout)
    {
        using var client = new HttpClient { Timeout = timeout };
        using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{worker.Port}{path}"));
        var body = await response.Content.ReadAsStringAsync();
        var json = JsonDocument.Parse(body).RootElement;
        return new Answer(
            (int)response.StatusCode,
            response.Headers.RetryAfter?.Delta,
            json.TryGetProperty("error", out var error) ? error.GetString()! : string.Empty,
            json.TryGetProperty("steps", out var steps) ? steps.GetInt64() : -1);
    }

    private sealed record Answer(int Status, TimeSpan? RetryAfter, string Error, long Steps);
}
