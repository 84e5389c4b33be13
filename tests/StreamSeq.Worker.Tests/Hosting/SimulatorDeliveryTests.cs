using System.Text.Json.Nodes;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using StreamSeq.Kafka.Embedded;
using StreamSeq.Kafka.Native;
using StreamSeq.Kafka.Transport;
using StreamSeq.Testing;
using StreamSeq.Worker.Tests.Browser;
using StreamSeq.Worker.Configuration;
using StreamSeq.Worker.Hosting;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Hosting;

/// <summary>
/// The built-in simulator when the broker does not take some of its readings: it counts them, warns (at the first
/// failure, then at most once per summary interval, and once more for what failed since when it stops), and keeps
/// producing, since it is a demo feed.
/// </summary>
public sealed class SimulatorDeliveryTests
{
    private static readonly string Shipped = File.ReadAllText(RepositoryFiles.Path("src", "StreamSeq.Worker", "appsettings.json"));

    [Fact]
    public void ShouldWarn_FailuresOverTime_FirstAtOnceThenAtMostOncePerIntervalAndNothingUnreportedAtTheEnd()
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var warnings = new DeliveryFailureWarnings(TimeSpan.FromSeconds(10));
        Assert.False(warnings.ShouldWarn(0, start, final: false, out _));
        Assert.True(warnings.ShouldWarn(3, start.AddSeconds(1), final: false, out var since));
        Assert.Equal(3, since);

        // More fail within the interval: counted, not yet said.
        Assert.False(warnings.ShouldWarn(5, start.AddSeconds(2), final: false, out _));
        Assert.False(warnings.ShouldWarn(9, start.AddSeconds(10.9), final: false, out _));
        Assert.True(warnings.ShouldWarn(9, start.AddSeconds(11), final: false, out since));
        Assert.Equal(6, since);

        // None new: no warning, however long it has been.
        Assert.False(warnings.ShouldWarn(9, start.AddHours(1), final: false, out _));
        Assert.False(warnings.ShouldWarn(9, start.AddHours(1), final: true, out _));

        // At the end, what failed since the last warning is said at once, within the interval too.
        var fresh = new DeliveryFailureWarnings(TimeSpan.FromSeconds(10));
        Assert.True(fresh.ShouldWarn(1, start, final: false, out _));
        Assert.True(fresh.ShouldWarn(4, start.AddSeconds(1), final: true, out since));
        Assert.Equal(3, since);
    }

    [Fact]
    public async Task Run_BrokerRefusesTheFirstProduceRequests_WarnsWithTheCountAndTheErrorAndKeepsProducing()
    {
        KafkaNative.EnsureLoaded();
        using var cluster = EmbeddedKafkaCluster.Start(1);
        var settings = WorkerSettings.Load(new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Shipped)))
            .AddInMemoryCollection(new Dictionary<string, string?> { ["StreamSeq:Kafka:BootstrapServers"] = cluster.BootstrapServers })
            .Build());
        cluster.CreateTopic(settings.Kafka.InputTopic, 1);

        // The broker refuses the first produce requests with an error the producer does not retry: it gives those
        // readings up (as it would on a topic that refuses them), and takes the later ones.
        cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.InvalidRecord, ErrorCode.InvalidRecord);
        const int Streams = 3;

        // Until stopped, one warning per hour at most: the first failure is said at the next check, the rest at the stop.
        var embedded = new EmbeddedSettings { Streams = Streams, Pace = TimeSpan.FromMilliseconds(20), SummaryInterval = TimeSpan.FromHours(1) };
        var log = new ListLogger<SimulatorService>();
        using var broker = new BrokerEndpoint(settings, TestLog.For<BrokerEndpoint>("broker"));
        using var service = new SimulatorService(broker, Microsoft.Extensions.Options.Options.Create(settings.Kafka), Microsoft.Extensions.Options.Options.Create(embedded), TimeProvider.System, log);
        await service.StartAsync(CancellationToken.None);

        // However the readings fall into requests (a slow start can put many into the first), later ones are taken.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (service.Failed == 0 || service.Delivered == 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"{service.Failed} failed and {service.Delivered} delivered of {service.Produced} after {clock.Elapsed}");
            await Task.Delay(50);
        }

        await service.StopAsync(CancellationToken.None);
        await service.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(60));

        // It kept producing whole rounds after the failures, and every reading sent was either taken or given up on.
        Assert.Equal(0, service.Produced % Streams);
        Assert.Equal(service.Produced, service.Delivered + service.Failed);
        Assert.True(service.LastFailure?.Contains(nameof(ErrorCode.InvalidRecord), StringComparison.Ordinal) == true, $"last failure: {service.LastFailure}; {service.Failed} failed, {service.Delivered} delivered");

        // Warned, naming the count and the error, at most twice (the first check's, and what failed after it at the
        // end), and every failure in exactly one warning.
        var warnings = log.Entries.Where(e => e.Level == LogLevel.Warning).ToList();
        Assert.InRange(warnings.Count, 1, 2);
        Assert.All(warnings, w => Assert.Contains(nameof(ErrorCode.InvalidRecord), w.Message, StringComparison.Ordinal));
        Assert.All(warnings, w => Assert.Contains(settings.Kafka.InputTopic, w.Message, StringComparison.Ordinal));
        Assert.Equal(service.Failed, warnings.Sum(w => Convert.ToInt64(w.Values["Since"], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(warnings[^1].Message.Contains($"({service.Failed} of ", StringComparison.Ordinal), warnings[^1].Message);
    }

    [Fact]
    public async Task Status_EmbeddedWorker_ShowsTheSimulatorsDeliveriesAndTheWaitingQueries()
    {
        var settings = new Dictionary<string, string>
        {
            ["StreamSeq:Embedded:Streams"] = "2",
            ["StreamSeq:Embedded:Pace"] = "00:00:00.050",
            ["StreamSeq:Embedded:SummaryInterval"] = "00:01:00",
        };
        await using var worker = await EmbeddedWorkerProcess.StartAsync(settings, TimeSpan.FromSeconds(120));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        JsonNode status;
        while (true)
        {
            status = JsonNode.Parse(await http.GetStringAsync(new Uri($"{worker.Url}/api/status")))!;
            if (status["simulator"]?["delivered"]?.GetValue<long>() > 0)
            {
                break;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"the simulator's deliveries never showed in /api/status: {status.ToJsonString()}\n{worker.Output}");
            await Task.Delay(200);
        }

        var simulator = status["simulator"]!;
        Assert.True(simulator["produced"]!.GetValue<long>() >= simulator["delivered"]!.GetValue<long>(), simulator.ToJsonString());
        Assert.Equal(0, simulator["failed"]!.GetValue<long>());
        Assert.Null(simulator["lastFailure"]);
        Assert.Equal(0, status["pendingQueries"]!.GetValue<int>());
        Assert.Equal(KafkaStreamWorker.DefaultMaxPendingQueries, status["maxPendingQueries"]!.GetValue<int>());
        Assert.DoesNotContain("failed delivery", worker.Output, StringComparison.Ordinal);
    }

    private sealed class ListLogger<T> : ILogger<T>
    {
        private readonly Lock gate = new();
        private readonly List<(LogLevel Level, string Message, Dictionary<string, object?> Values)> entries = [];

        public IReadOnlyList<(LogLevel Level, string Message, Dictionary<string, object?> Values)> Entries
        {
            get
            {
                lock (gate)
                {
                    return [.. entries];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? pairs.ToDictionary(p => p.Key, p => p.Value) : [];
            lock (gate)
            {
                entries.Add((logLevel, formatter(state, exception), values));
            }
        }
    }
}
