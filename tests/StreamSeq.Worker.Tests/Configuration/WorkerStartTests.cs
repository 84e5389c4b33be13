using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Configuration;

/// <summary>
/// Misconfiguration is loud: every failure to start exits non-zero with one line that names the setting, and a
/// worker given settings never falls back to the embedded demo broker.
/// </summary>
public sealed class WorkerStartTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    // Nothing listens on port 9 of the loopback interface: a broker that cannot be reached (never contacted when the
    // worker stops at its settings first).
    private const string NoBroker = "--StreamSeq:Kafka:BootstrapServers=127.0.0.1:9";
    private const string AnyPort = "--Urls=http://127.0.0.1:0";

    private readonly Scratch scratch = new("streamseq-start-");

    public void Dispose() => scratch.Dispose();

    [Fact]
    public void Start_MisspeltBootstrapSetting_ExitsNonZeroWithOneLineNamingItInsteadOfStartingTheDemo()
    {
        var run = WorkerCommand.Run([AnyPort, "--StreamSeq:Kafka:BootstrapServer=host:9092"], Bound);

        AssertOneLineFailure(run, "StreamSeq:Kafka:BootstrapServer:");
        Assert.Contains("did you mean StreamSeq:Kafka:BootstrapServers?", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_StreamSeqSettingsWithoutABroker_ExitsNonZeroNamingBootstrapServers()
    {
        var run = WorkerCommand.Run([AnyPort, "--StreamSeq:Processing:Lag=2"], Bound);

        AssertOneLineFailure(run, "StreamSeq:Kafka:BootstrapServers:");
        Assert.Contains("StreamSeq:Processing:Lag", run.Output, StringComparison.Ordinal);
        Assert.Contains("StreamSeq:Embedded:Enabled=true", run.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Settings files are read from the folder the worker starts in: run from another folder, the worker read none and
    /// said only that no broker list was set, with no word that the shipped appsettings.json (the demo) was not read.
    /// </summary>
    [Fact]
    public void Start_FromAFolderWithoutSettingsFile_SaysTheShippedOneWasNotReadAndWhere()
    {
        var folder = System.IO.Directory.CreateDirectory(scratch.File("elsewhere")).FullName;

        var run = WorkerCommand.Run([AnyPort], Bound, workingDirectory: folder);

        Assert.True(run.ExitCode is { } code && code != 0, $"the worker should refuse to start: {run}");
        Assert.Equal(2, run.Lines.Count);
        Assert.Contains("StreamSeq:Kafka:BootstrapServers: not set", run.Lines[0], StringComparison.Ordinal);
        Assert.Contains($"({folder}), which has no appsettings.json, so {Path.Combine(Path.GetDirectoryName(WorkerBuild.Dll())!, "appsettings.json")} (the demo's models and routes) was not read", run.Lines[1], StringComparison.Ordinal);

        // From the build folder (as every other test here runs it) the shipped file is read and there is no such note.
        var shipped = WorkerCommand.Run([AnyPort, "--StreamSeq:Processing:Lag=2"], Bound);
        Assert.DoesNotContain("appsettings.json", shipped.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_EmbeddedBrokerAskedForAndBootstrapServersGiven_ExitsNonZeroNamingBoth()
    {
        var run = WorkerCommand.Run([AnyPort, NoBroker, "--StreamSeq:Embedded:Enabled=true"], Bound);

        AssertOneLineFailure(run, "StreamSeq:Embedded:Enabled:");
        Assert.Contains("StreamSeq:Kafka:BootstrapServers", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_ClientSettingLibrdkafkaDoesNotKnow_ExitsNonZeroNamingIt()
    {
        var run = WorkerCommand.Run([AnyPort, NoBroker, "--StreamSeq:Kafka:Client:bogus.key=1"], Bound);

        AssertOneLineFailure(run, "StreamSeq:Kafka:Client:bogus.key:");
    }

    [Fact]
    public void Start_ClientSettingWithAnInvalidValue_ExitsNonZeroNamingIt()
    {
        var run = WorkerCommand.Run([AnyPort, NoBroker, "--StreamSeq:Kafka:Client:security.protocol=carrier-pigeon"], Bound);

        AssertOneLineFailure(run, "StreamSeq:Kafka:Client:security.protocol:");
    }

    [Fact]
    public void Start_NegativeLag_NamesTheKeyTheUserWrote()
    {
        var run = WorkerCommand.Run([AnyPort, NoBroker, "--StreamSeq:Processing:Lag=-1"], Bound);

        AssertOneLineFailure(run, "StreamSeq:Processing:Lag:");
        Assert.DoesNotContain("StreamSeq:Models", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_NegativePerModelLag_NamesTheModelSetting()
    {
        var run = WorkerCommand.Run([AnyPort, NoBroker, "--StreamSeq:ModelSettings:pressure:Lag=-3"], Bound);

        AssertOneLineFailure(run, "StreamSeq:ModelSettings:pressure:Lag:");
    }

    [Fact]
    public void Start_SettingsForAModelThatDoesNotExist_ExitsNonZeroNamingIt()
    {
        var run = WorkerCommand.Run([AnyPort, NoBroker, "--StreamSeq:ModelSettings:presure:Lag=3"], Bound);

        AssertOneLineFailure(run, "StreamSeq:ModelSettings:presure:");
        Assert.Contains("pressure", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_ValueOfTheWrongType_ExitsNonZeroWithOneLineInsteadOfAStackTrace()
    {
        var run = WorkerCommand.Run([AnyPort, NoBroker, "--StreamSeq:Kafka:CommitInterval=abc"], Bound);

        AssertOneLineFailure(run, "StreamSeq:Kafka:CommitInterval:");
    }

    [Fact]
    public void Start_CommitIntervalLongerThanTheTransactionTimeout_ExitsNonZeroWithOneLine()
    {
        var run = WorkerCommand.Run([AnyPort, NoBroker, "--StreamSeq:Kafka:CommitInterval=00:01:00", "--StreamSeq:Kafka:TransactionTimeout=00:00:10"], Bound);

        AssertOneLineFailure(run, "StreamSeq:Kafka:CommitInterval");
    }

    [Theory]
    [InlineData("http://127.0.0.1:notaport")]
    [InlineData("http://127.0.0.1:70000")]
    [InlineData("127.0.0.1:8080")]
    [InlineData("ftp://127.0.0.1:8080")]
    [InlineData("http://127.0.0.l:8080")]
    [InlineData("http://127.0.0.1:8080/path")]
    public void Start_ListenAddressThatIsNotOne_ExitsNonZeroNamingUrls(string url)
    {
        var run = WorkerCommand.Run([NoBroker, $"--Urls={url}"], Bound);

        AssertOneLineFailure(run, "Urls:");
        Assert.Contains(url, run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_PortAlreadyInUse_ExitsNonZeroWithOneLineNamingTheAddress()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";

        var run = WorkerCommand.Run([NoBroker, $"--Urls={url}"], Bound);

        AssertOneLineFailure(run, "Urls:");
        Assert.Contains(url, run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_HttpPortsFromTheEnvironment_ListensThereBecauseTheShippedSettingsNameNoAddress()
    {
        // What a container host does (the aspnet images set ASPNETCORE_HTTP_PORTS): the shipped appsettings.json used to
        // pin Urls to localhost:8080, which overrode it.
        var port = Scratch.FreePort();
        using var worker = CliProcess.Start(WorkerBuild.Dll(), [NoBroker], scratch.File("ports.out"), environment: new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = $"{port}" });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var live = false;
        while (!live && clock.Elapsed < Bound && !worker.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/health/live"));
                live = response.StatusCode == HttpStatusCode.OK;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                await Task.Delay(200);
            }
        }

        Assert.True(live, $"the worker should listen on ASPNETCORE_HTTP_PORTS={port}: {worker.Output()}{worker.Errors}");
    }

    [Fact]
    public void Start_KestrelEndpointThatIsNotAnAddress_ExitsNonZeroNamingIt()
    {
        var run = WorkerCommand.Run([NoBroker, "--Kestrel:Endpoints:Http:Url=http://127.0.0.1:notaport"], Bound);

        AssertOneLineFailure(run, "Kestrel:Endpoints:Http:Url:");
    }

    /// <summary>
    /// A worker that starts while the changelog has fewer partitions than the input (an operator grew the input first,
    /// and a rolling restart followed) used to exit 2 at its start-up check, so every restarted pod crash-looped while
    /// the running ones coped. It starts like a running worker copes: one error line naming the fix, the partitions
    /// without a changelog partition waiting (in /api/status and in the lag), the others processed, ready and live.
    /// </summary>
    [Fact]
    public void Start_ChangelogWithFewerPartitionsThanTheInput_StartsReadyWithTheLackingPartitionsWaitingAndOneErrorLineNamingTheFix()
    {
        using var bed = new KafkaTestBed("mismatch");
        bed.Cluster.CreateTopic("mismatch.changelog", 2);
        bed.ChangelogTopics.Add("mismatch.changelog");
        var input = TestInput.Generate(streams: 8, perStream: 10, seed: 3);
        var served = input.Where(r => r.Stream.EndsWith('0') || r.Stream.EndsWith('2') || r.Stream.EndsWith('4') || r.Stream.EndsWith('6')).ToList();
        var waiting = input.Except(served).ToList();
        bed.Produce(served, partition: 0);
        bed.Produce(waiting, partition: 3);
        var settings = WorkerProcess.Settings(bed, "mismatch-1", commitInterval: "00:00:00.200");
        settings["Kafka"]!["ChangelogTopic"] = "mismatch.changelog";
        settings["Kafka"]!["TransactionTimeout"] = "00:00:02";
        settings["Kafka"]!["StallTimeout"] = "00:00:04";

        using var worker = WorkerProcess.Start(settings, scratch.File("mismatch"));

        Assert.True(worker.WaitReady(Bound), $"the worker should start and be ready with partitions waiting for their changelog partition:\n{worker.Logs()}");
        JsonNode? status = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90) && !worker.HasExited)
        {
            status = JsonNode.Parse(worker.Get("/api/status").Body);
            if (status?["processed"]?.GetValue<long>() == served.Count && status["lag"]?.GetValue<long>() == waiting.Count)
            {
                break;
            }

            Thread.Sleep(200);
        }

        Assert.True(status is not null, worker.Logs());
        Assert.Equal(served.Count, status["processed"]!.GetValue<long>());
        Assert.Equal("[0,1]", status["partitions"]!.ToJsonString());
        Assert.Equal("[2,3]", status["awaitingChangelog"]!.ToJsonString());

        // The waiting partition's records are in the lag (an operator's lag alert sees them), and said to be waiting.
        Assert.Equal(waiting.Count, status["lag"]!.GetValue<long>());
        Assert.Equal(waiting.Count, status["awaitingChangelogLag"]!.GetValue<long>());

        // The same figures on /metrics, where the chart's alerts read them: the no-commit alert subtracts the waiting
        // records, and the awaiting-changelog alert counts the partitions.
        var scrape = PrometheusText.Parse(worker.Get("/metrics").Body);
        Assert.Equal(waiting.Count, scrape.Value("streamseq_kafka_consumer_lag_awaiting_changelog"));
        Assert.Equal(2, scrape.Value("streamseq_kafka_partitions_awaiting_changelog"));
        Assert.True(status["ready"]!.GetValue<bool>(), status.ToJsonString());
        Assert.Equal("partitions [0,1]; partitions [2,3] wait, unprocessed, for their partition in the changelog 'mismatch.changelog' (add partitions to it)", status["readiness"]!.GetValue<string>());
        var ready = worker.Get("/health/ready");
        Assert.Equal(200, ready.Status);
        Assert.Contains("partitions [2,3] wait, unprocessed, for their partition in the changelog", ready.Body, StringComparison.Ordinal);

        // One start-up line says what is wrong and how to fix it; then one per waiting partition once assigned. The
        // console logger writes on its own thread, and the lines reach this process through a pipe: wait for them
        // rather than read the log the moment /api/status agreed.
        const string waitingLine = "Input partition 3 of 'streamseq.readings' has no partition in the changelog";
        Integration.ExactlyOnceTests.WaitUntil(() => worker.Logs().Contains(waitingLine, StringComparison.Ordinal), "the waiting partition's log line", seconds: 60);
        var logs = worker.Logs();
        var line = Assert.Single(logs.Split('\n'), l => l.Contains("The changelog 'mismatch.changelog' has 2 partitions but the input topic", StringComparison.Ordinal));
        Assert.Contains("kafka-topics --alter --topic mismatch.changelog --partitions 4", line, StringComparison.Ordinal);

        // Records that no commit can take before the changelog grows are no stall: liveness stays healthy well past the
        // stall timeout (4 s).
        Thread.Sleep(TimeSpan.FromSeconds(10));
        Assert.Equal(200, worker.Get("/health/live").Status);
        Assert.False(worker.HasExited, worker.Logs());
        Assert.Equal(0, worker.Stop(Bound));
    }

    [Fact]
    public void Start_UnknownSettingWithUnknownSettingsWarn_StartsAndLogsTheSetting()
    {
        using var bed = new KafkaTestBed("unknown-warn");
        var settings = bed.WorkerSettings("warn-1");
        settings["UnknownSettings"] = "warn";
        settings["Kafka"]!["Nonsense"] = "1";
        using var worker = WorkerProcess.Start(settings, scratch.File("warn"));

        Assert.True(worker.WaitReady(Bound), $"the worker should start with an unknown setting relaxed to a warning:\n{worker.Logs()}");
        Assert.Contains("StreamSeq:Kafka:Nonsense", worker.Logs(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ \"StreamSeq\": { \"Processing\": { \"Lag\": 2, } ", "not valid JSON at line 1, byte 46")]
    [InlineData("{ \"StreamSeq\": { \"Processing\": { \"Lag\": 2, \"lag\": 3 } } }", "StreamSeq:Processing:lag is given twice")]
    [InlineData("", "not valid JSON at line 1, byte 1")]
    [InlineData("[1, 2]", "must hold one JSON object of settings")]
    public void Start_SettingsFileThatCannotBeRead_ExitsNonZeroWithOneLineNamingTheFileInsteadOfAStackTrace(string text, string expected)
    {
        // Was exit 134 with "Unhandled exception. System.IO.InvalidDataException: Failed to load configuration ..." and 25 lines.
        var root = Directory.CreateDirectory(scratch.File("content")).FullName;
        File.WriteAllText(Path.Combine(root, "appsettings.json"), text);

        var run = WorkerCommand.Run([AnyPort, NoBroker, $"--contentRoot={root}"], Bound);

        AssertOneLineFailure(run, $"{Path.Combine(root, "appsettings.json")}: {expected}");
    }

    [Fact]
    public void Start_ContentRootThatIsNotAFolder_OneLineNamingIt()
    {
        // Was exit 134: "Unhandled exception. System.IO.DirectoryNotFoundException: /nonexistent/" and a stack trace.
        var missing = scratch.File("no-such-folder");

        var run = WorkerCommand.Run([AnyPort, NoBroker, $"--contentRoot={missing}"], Bound);

        AssertOneLineFailure(run, $"contentRoot: '{missing}' is not a folder");
    }

    [Fact]
    public void Start_SettingsFileNotUtf8_ExitsNonZeroNamingTheByteInsteadOfJoiningAGroupNobodyNamed()
    {
        // The JSON reader turned the Latin-1 'é' into U+FFFD: the worker joined the consumer group "gr\uFFFDup".
        var root = Directory.CreateDirectory(scratch.File("latin1")).FullName;
        File.WriteAllBytes(Path.Combine(root, "appsettings.json"), [.. """{"StreamSeq":{"Kafka":{"GroupId":"gr"""u8, 0xE9, .. "up\"}}}"u8]);

        var run = WorkerCommand.Run([AnyPort, NoBroker, $"--contentRoot={root}"], Bound);

        AssertOneLineFailure(run, $"{Path.Combine(root, "appsettings.json")}: not UTF-8 text: 0xE9 at byte 37 is not UTF-8");
    }

    [Fact]
    public void Start_HttpsAddressWithoutACertificate_OneLineNamingUrls()
    {
        // Kestrel's message ran over two lines and named no setting. HOME is empty so no developer certificate is found.
        var home = Directory.CreateDirectory(scratch.File("home")).FullName;

        var run = WorkerCommand.Run([NoBroker, "--Urls=https://127.0.0.1:0"], Bound, new Dictionary<string, string> { ["HOME"] = home });

        AssertOneLineFailure(run, "Urls: an https address needs a certificate");
    }

    [Theory]
    [InlineData("'foo': not a setting", "foo")]
    [InlineData("'--StreamSeq:Processing:Lag': no value follows", "--StreamSeq:Processing:Lag")]
    [InlineData("'-x': not a setting", "-x")]
    [InlineData("StreamSeq:Processing:Lag: given twice on the command line", "--StreamSeq:Processing:Lag=2", "--StreamSeq:Processing:Lag=3")]
    public void Start_ArgumentTheHostWouldIgnore_ExitsNonZeroNamingItInsteadOfStarting(string expected, params string[] args)
    {
        // Each of these used to start the worker with the argument silently skipped (or the first value overridden).
        var run = WorkerCommand.Run([AnyPort, NoBroker, .. args], Bound);

        AssertOneLineFailure(run, expected);
    }

    [Fact]
    public void Start_Help_PrintsTheUsageAndExitsZeroWithoutStarting()
    {
        var run = WorkerCommand.Run(["--help"], Bound);

        Assert.True(run.ExitCode == 0, $"--help should print the usage and exit: {run}");
        Assert.Contains("Usage: StreamSeq.Worker [--Section:Key=value ...]", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening", run.Output, StringComparison.Ordinal);

        // Every exit code docs/worker.md gives, the second stop signal's included.
        var exitCodes = run.Output[run.Output.IndexOf("Exit codes:", StringComparison.Ordinal)..];
        foreach (var code in (string[])["0 stopped", "1 the processing loop", "2 the settings", "130", "143", "131"])
        {
            Assert.Contains(code, exitCodes, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Start_LogLevelFromTheEnvironmentThatIsNotOne_OneLineNamingTheVariable()
    {
        // Was exit 134: "Unhandled exception. System.InvalidOperationException: Configuration value 'Verbose' is not supported." and 35 lines.
        var run = WorkerCommand.Run([AnyPort, NoBroker], Bound, new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Verbose" });

        AssertOneLineFailure(run, "Logging:LogLevel:Default (environment variable Logging__LogLevel__Default): 'Verbose' is not a log level");
    }

    [Fact]
    public void Start_ValueFromAnEnvironmentVariable_TheProblemNamesTheVariable()
    {
        var run = WorkerCommand.Run([AnyPort, NoBroker], Bound, new Dictionary<string, string> { ["StreamSeq__Processing__Lag"] = "-1" });

        AssertOneLineFailure(run, "StreamSeq:Processing:Lag (environment variable StreamSeq__Processing__Lag): must be between 0 and 1000, got -1.");
    }

    [Fact]
    public void Start_TwoEnvironmentVariablesForOneSetting_ExitsNonZeroNamingBoth()
    {
        // Linux keeps both; which one the configuration took depended on the order of the process's environment.
        var run = WorkerCommand.Run([AnyPort, NoBroker], Bound, new Dictionary<string, string> { ["StreamSeq__Processing__Lag"] = "1", ["STREAMSEQ__PROCESSING__LAG"] = "2" });

        AssertOneLineFailure(run, "set by 2 environment variables with different values (STREAMSEQ__PROCESSING__LAG='2', StreamSeq__Processing__Lag='1')");
    }

    [Fact]
    public void Start_BrokerListThatIsNotOne_ExitsNonZeroInsteadOfWaitingForever()
    {
        // librdkafka took 'kafka:notaport' and the worker retried "not reachable" forever, never ready, never exiting.
        var run = WorkerCommand.Run([AnyPort, "--StreamSeq:Kafka:BootstrapServers=127.0.0.1:notaport"], Bound);

        AssertOneLineFailure(run, "StreamSeq:Kafka:BootstrapServers: '127.0.0.1:notaport' has the port 'notaport'");
    }

    [Theory]
    [InlineData("enable.idempotence=false")]
    [InlineData("transactional.id=x")]
    [InlineData("group.id=other")]
    public void Start_ClientPropertyTheWorkerSets_ExitsNonZeroBeforeTheBroker(string property)
    {
        // With the embedded broker these failed once the loop ran (exit 1 and a stack trace; transactional.id: exit 0
        // after "BackgroundService failed"), or, for group.id, silently joined another group than the log said.
        var run = WorkerCommand.Run([AnyPort, "--StreamSeq:Embedded:Enabled=true", $"--StreamSeq:Kafka:Client:{property}"], Bound);

        AssertOneLineFailure(run, $"StreamSeq:Kafka:Client:{property.Split('=')[0]}: ");
    }

    [Fact]
    public void Start_StateDirectoryThatIsAFile_ExitsNonZeroBeforeTheBroker()
    {
        // Was a fatal error of the running loop, once partitions were assigned: exit 1, a stack trace, a restart loop.
        var file = scratch.File("not-a-folder");
        File.WriteAllText(file, "x");

        var run = WorkerCommand.Run([AnyPort, "--StreamSeq:Embedded:Enabled=true", "--StreamSeq:Processing:StateStore=rocksdb", $"--StreamSeq:Processing:StateDirectory={file}"], Bound);

        AssertOneLineFailure(run, $"StreamSeq:Processing:StateDirectory: '{file}' is a file; the disk store needs a folder.");
    }

    private static void AssertOneLineFailure(WorkerCommand.Outcome run, string setting)
    {
        Assert.True(run.ExitCode is { } code && code != 0, $"the worker should refuse to start: {run}");
        var line = Assert.Single(run.Lines);
        Assert.Contains(setting, line, StringComparison.Ordinal);
    }
}
