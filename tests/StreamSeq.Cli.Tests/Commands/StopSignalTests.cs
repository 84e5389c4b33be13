using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Embedded;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM sent to the commands that run until stopped, <c>broker</c>, <c>read --follow</c> and
/// live <c>simulate</c>, as separate processes: the README and docs promise a clean stop for both signals (output
/// flushed, a closing line on stderr, exit code 0).
/// </summary>
/// <remarks>
/// A process started in the background without job control inherits SIGINT ignored, and .NET keeps it ignored, so
/// a test host started that way would pass SIGINT's test only by luck. The commands are therefore started through
/// coreutils <c>env --default-signal=INT</c>, which restores SIGINT as a terminal's Ctrl+C finds it.
/// </remarks>
public sealed class StopSignalTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(1);

    [SkippableTheory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task Broker_StopSignal_StopsWithTheClosingLineAndExitCode0(string signal)
    {
        using var broker = Command.Start("broker", "--topic", "t:2");
        var bootstrap = await broker.OutputLine(0);
        await broker.ErrorLine("embedded Kafka broker at");
        Assert.StartsWith("127.0.0.1:", bootstrap, StringComparison.Ordinal);
        Assert.Contains("topics t:2:1;", broker.Errors, StringComparison.Ordinal);

        var code = await broker.Stop(signal);

        Assert.True(code == 0, broker.Errors);
        Assert.Contains("embedded Kafka broker stopped", broker.Errors, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task ReadFollow_StopSignal_PrintsEveryRecordThenTheCountAndExits0(string signal)
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("t", 1);
        Produce(cluster.BootstrapServers, "t", ["1", "2", "3"]);
        using var read = Command.Start("read", "--bootstrap-servers", cluster.BootstrapServers, "--topic", "t", "--from-beginning", "--follow", "--isolation", "broker");
        Assert.Equal("3", await read.OutputLine(2));

        var code = await read.Stop(signal);

        Assert.True(code == 0, read.Errors);
        Assert.Equal(["1", "2", "3"], read.Output);
        Assert.Contains("read 3 records from t", read.Errors, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task SimulateLive_StopSignal_SaysWhatItProducedWhichIsWhatTheTopicHolds(string signal)
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("readings", 1);
        using var simulate = Command.Start("simulate", "--bootstrap-servers", cluster.BootstrapServers, "--topic", "readings", "--rounds", "0", "--pace", "20ms", "--streams", "3");
        await simulate.ErrorLine("producing");
        await Task.Delay(500);

        var code = await simulate.Stop(signal);

        Assert.True(code == 0, simulate.Errors);
        var produced = System.Text.RegularExpressions.Regex.Match(simulate.Errors, "produced ([0-9]+) readings to readings");
        Assert.True(produced.Success, simulate.Errors);
        Assert.Equal(long.Parse(produced.Groups[1].Value, CultureInfo.InvariantCulture), Count(cluster.BootstrapServers, "readings"));
    }

    /// <summary>
    /// Before a broker answered nothing is under way to finish: the signal ends the command at once, as it ends any
    /// process (128 + the signal's number, no closing line), instead of after the 10 s the command waits for a broker.
    /// </summary>
    [SkippableTheory]
    [InlineData("INT", 130, "read")]
    [InlineData("TERM", 143, "read")]
    [InlineData("INT", 130, "simulate")]
    [InlineData("TERM", 143, "simulate")]
    public async Task ReadAndSimulate_StopSignalWhileWaitingForTheBroker_EndsAtOnce(string signal, int expected, string command)
    {
        var port = ReadCommandTests.ClosedPort();
        string[] args = command == "read"
            ? ["read", "--bootstrap-servers", $"127.0.0.1:{port}", "--topic", "t", "--follow"]
            : ["simulate", "--bootstrap-servers", $"127.0.0.1:{port}", "--rounds", "0"];
        using var waiting = Command.Start(args);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var clock = Stopwatch.StartNew();

        var code = await waiting.Stop(signal);

        Assert.Equal(expected, code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    /// <summary>
    /// A second signal while the clean stop is still under way abandons it: live simulate whose broker has gone waits
    /// 10 s for its acknowledgements after the first signal; the second ends it at once, with one line saying so and
    /// the signal's exit code (before, the second signal was ignored and the command exited 1 after the 10 s).
    /// </summary>
    [SkippableTheory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    public async Task SimulateLive_SecondSignalWhileTheCleanStopWaitsForAGoneBroker_EndsAtOnce(string signal, int expected)
    {
        var simulate = await SimulateWhoseBrokerWent();
        using (simulate)
        {
            // Readings queue up for the gone broker; the first signal's stop waits for them.
            await Task.Delay(1000);
            simulate.Signal(signal);
            await Task.Delay(1500);
            Assert.False(simulate.HasExited, $"the clean stop should still wait for the broker: {simulate.Errors}");
            var clock = Stopwatch.StartNew();

            var code = await simulate.Stop(signal);

            Assert.True(code == expected, $"exit code {code}: {simulate.Errors}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}: {simulate.Errors}");
            Assert.Contains($"SIG{signal} again: clean stop abandoned.", simulate.Errors, StringComparison.Ordinal);
            Assert.DoesNotContain("acknowledged", simulate.Errors, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// The same signal twice within a second is one request delivered twice (<c>dotnet run</c> forwards the signal its
    /// process group got to the command, which got it too): the clean stop goes on waiting for the gone broker; the
    /// signal sent again after the window still abandons it.
    /// </summary>
    [SkippableTheory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    public async Task SimulateLive_SameSignalTwiceInQuickSuccession_IsOneRequestAndALaterOneStillAbandons(string signal, int expected)
    {
        var simulate = await SimulateWhoseBrokerWent();
        using (simulate)
        {
            await Task.Delay(1000);
            simulate.SignalTwiceAtOnce(signal);
            await Task.Delay(1500);
            Assert.False(simulate.HasExited, $"a copy of the first signal abandoned the clean stop: {simulate.Errors}");
            Assert.DoesNotContain("again", simulate.Errors, StringComparison.Ordinal);

            var code = await simulate.Stop(signal);

            Assert.True(code == expected, $"exit code {code}: {simulate.Errors}");
            Assert.Contains($"SIG{signal} again: clean stop abandoned.", simulate.Errors, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// read --follow has nothing to hand back to a broker (no group, no transaction), so its clean stop never waits
    /// for one: a broker gone before the signal still leaves every record printed, the closing count, exit 0, and no
    /// need for a second signal.
    /// </summary>
    [SkippableTheory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task ReadFollow_StopSignalAfterTheBrokerWent_StopsAtOnceWithEveryRecordAndTheCount(string signal)
    {
        Command read;
        using (var cluster = EmbeddedKafkaCluster.Start(1))
        {
            cluster.CreateTopic("t", 1);
            Produce(cluster.BootstrapServers, "t", ["1", "2"]);
            read = Command.Start("read", "--bootstrap-servers", cluster.BootstrapServers, "--topic", "t", "--from-beginning", "--follow", "--isolation", "broker");
            Assert.Equal("2", await read.OutputLine(1));
        }

        using (read)
        {
            await Task.Delay(1000);
            Assert.False(read.HasExited, $"read --follow should keep waiting for records: {read.Errors}");
            var clock = Stopwatch.StartNew();

            var code = await read.Stop(signal);

            Assert.True(code == 0, $"exit code {code}: {read.Errors}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}: {read.Errors}");
            Assert.Equal(["1", "2"], read.Output);
            Assert.Contains("read 2 records from t", read.Errors, StringComparison.Ordinal);
            Assert.DoesNotContain("clean stop abandoned", read.Errors, StringComparison.Ordinal);
        }
    }

    /// <summary>Live simulate that produced to a broker for a while, the broker then stopped under it.</summary>
    private static async Task<Command> SimulateWhoseBrokerWent()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("readings", 1);
        var simulate = Command.Start("simulate", "--bootstrap-servers", cluster.BootstrapServers, "--topic", "readings", "--rounds", "0", "--pace", "20ms", "--streams", "3");
        await simulate.ErrorLine("producing");
        await Task.Delay(500);
        return simulate;
    }

    private static void Produce(string bootstrap, string topic, IEnumerable<string> values)
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = bootstrap }).SetLogHandler((_, _) => { }).Build();
        foreach (var value in values)
        {
            producer.Produce(new TopicPartition(topic, 0), new Message<Null, string> { Value = value });
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
    }

    private static long Count(string bootstrap, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "stop-signal-test-unused" }).SetLogHandler((_, _) => { }).Build();
        var offsets = consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(30));
        return offsets.High.Value - offsets.Low.Value;
    }

    /// <summary>A <c>streamseq</c> command as its own process, its output lines kept as they arrive.</summary>
    private sealed class Command : IDisposable
    {
        private readonly Process process;
        private readonly List<string> output = [];
        private readonly StringBuilder errors = new();

        private Command(Process process)
        {
            this.process = process;
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (output)
                    {
                        output.Add(e.Data);
                    }
                }
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (errors)
                    {
                        errors.AppendLine(e.Data);
                    }
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public List<string> Output
        {
            get
            {
                lock (output)
                {
                    return [.. output];
                }
            }
        }

        public string Errors
        {
            get
            {
                lock (errors)
                {
                    return errors.ToString();
                }
            }
        }

        public static Command Start(params string[] args)
        {
            Skip.IfNot(OperatingSystem.IsLinux() && RestoresSigint(), "needs coreutils env --default-signal (8.31 or later) to give the command a deliverable SIGINT");
            var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in (string[])["--default-signal=INT", "dotnet", Path.Combine(AppContext.BaseDirectory, "streamseq.dll"), .. args])
            {
                start.ArgumentList.Add(a);
            }

            return new Command(Process.Start(start)!);
        }

        /// <summary>Line <paramref name="index"/> of standard output, once written.</summary>
        public async Task<string> OutputLine(int index)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < Patience)
            {
                if (Output is { } lines && lines.Count > index)
                {
                    return lines[index];
                }

                Assert.False(process.HasExited, $"exited with {(process.HasExited ? process.ExitCode : 0)}: {Errors}");
                await Task.Delay(50);
            }

            throw new TimeoutException($"no output line {index} within {Patience}: {Errors}");
        }

        /// <summary>Waits for a line of standard error starting with <paramref name="start"/>.</summary>
        public async Task ErrorLine(string start)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < Patience)
            {
                if (Errors.Split('\n').Any(l => l.StartsWith(start, StringComparison.Ordinal)))
                {
                    return;
                }

                Assert.False(process.HasExited, $"exited with {(process.HasExited ? process.ExitCode : 0)}: {Errors}");
                await Task.Delay(50);
            }

            throw new TimeoutException($"no line '{start}...' within {Patience}: {Errors}");
        }

        public bool HasExited => process.HasExited;

        /// <summary>
        /// Sends SIG<paramref name="signal"/> from this process with the kill system call: a <c>kill</c> process took
        /// over a second to start on a loaded machine, time that the tests' clocks for an exit "at once" counted.
        /// </summary>
        public void Signal(string signal) => Assert.Equal(0, SendSignal(process.Id, Number(signal)));

        /// <summary>
        /// Sends SIG<paramref name="signal"/> twice from this process, microseconds apart, as a launcher's forwarded copy
        /// arrives: two <c>kill</c> processes one after the other took over a second on a loaded machine, so the copy
        /// fell outside the duplicate window.
        /// </summary>
        public void SignalTwiceAtOnce(string signal)
        {
            Signal(signal);
            Signal(signal);
        }

        /// <summary>Sends SIG<paramref name="signal"/> and returns the exit code.</summary>
        public async Task<int> Stop(string signal)
        {
            Signal(signal);
            await process.WaitForExitAsync().WaitAsync(Patience);
            process.WaitForExit();
            return process.ExitCode;
        }

        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }

            process.Dispose();
        }

        private static int Number(string signal) => signal switch { "INT" => 2, "TERM" => 15, _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "INT or TERM") };

        private static bool RestoresSigint()
        {
            using var probe = Process.Start(new ProcessStartInfo("env", ["--default-signal=INT", "true"]) { RedirectStandardError = true, UseShellExecute = false });
            probe?.WaitForExit();
            return probe is { ExitCode: 0 };
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
