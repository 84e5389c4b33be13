using System.CommandLine;
using Confluent.Kafka;
using StreamSeq.Kafka.Reading;

namespace StreamSeq.Cli.Commands;

/// <summary>
/// <c>streamseq read</c>: prints the committed records of a Kafka topic as JSON Lines, to check a worker's outputs
/// (exactly once: compare with <c>streamseq run</c> over the same input) or to turn its input back into a file.
/// </summary>
internal static class ReadCommand
{
    /// <summary>The command, writing records to the stream <paramref name="openOutput"/> returns.</summary>
    public static Command Create(Func<Stream> openOutput, TextWriter stderr)
    {
        var bootstrap = OptionParsers.BootstrapServers(new Option<string>("--bootstrap-servers") { Description = "Broker list (host:port,...).", Required = true });
        var topic = OptionParsers.TopicNames(new Option<string>("--topic") { Description = "The topic to read (every partition).", Required = true });
        var fromBeginning = new Option<bool>("--from-beginning") { Description = "Start at the oldest record the broker keeps (otherwise at the end: only records written from now on)." };
        var follow = new Option<bool>("--follow") { Description = "Keep reading new records until Ctrl+C (otherwise stop at the end of every partition)." };
        var maxRecords = OptionParsers.WholeNumber("--max-records", "Stop after this many records (0: no limit).", 0, 0);
        var isolation = new Option<string>("--isolation") { Description = "What counts as committed: 'broker' (read_committed: Apache Kafka), 'marker' (the worker's offset markers in its changelog: the embedded broker, which shows aborted records), or 'auto' (marker on the embedded broker, broker otherwise).", DefaultValueFactory = _ => "auto" };
        isolation.AcceptOnlyFromAmong("auto", "broker", "marker");
        var changelog = OptionParsers.TopicNames(new Option<string[]>("--changelog") { Description = "The worker's changelog topic (StreamSeq:Kafka:ChangelogTopic), read for its offset markers under the marker rule (repeatable, when workers wrote to more than one).", DefaultValueFactory = _ => [CommittedReaderOptions.DefaultChangelogTopic], AllowMultipleArgumentsPerToken = false });
        var format = new Option<string>("--format") { Description = "Each line: 'value' (the record's value: for output topics the same line as streamseq run), 'record' (topic, partition, offset, timestamp, key, headers, value), or 'input' (the value with the key as its 'stream' field: the JSON Lines input of streamseq run).", DefaultValueFactory = _ => "value" };
        format.AcceptOnlyFromAmong("value", "record", "input");
        var client = ClientOption.Create("Extra librdkafka setting key=value (repeatable), e.g. security.protocol=SASL_SSL. Properties read sets itself (bootstrap.servers, group.id, isolation.level, enable.auto.commit, auto.offset.reset, enable.partition.eof ...) are refused.", StreamSeq.Kafka.Transport.ReservedClientSettings.ClientRole.Reader);
        var command = new Command("read", "Print the committed records of a Kafka topic as JSON Lines (read_committed on Apache Kafka; the worker's offset-marker rule on the embedded broker).")
        {
            bootstrap, topic, fromBeginning, follow, maxRecords, isolation, changelog, format, client,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            if (!parse.GetValue(fromBeginning) && !parse.GetValue(follow))
            {
                CliErrors.Report(stderr, "nothing to read: give --from-beginning (what the topic holds) and/or --follow (records written from now on).");
                return CliErrors.Usage;
            }

            IReadOnlyList<KeyValuePair<string, string>> settings = ClientOption.Parse(parse.GetValue(client));
            var servers = parse.GetValue(bootstrap)!;
            var name = parse.GetValue(topic)!;
            try
            {
                var changelogTopics = parse.GetValue(changelog) is { Length: > 0 } given ? given : [CommittedReaderOptions.DefaultChangelogTopic];
                var rule = parse.GetValue(isolation) switch
                {
                    "broker" => ReadIsolation.Broker,
                    "marker" => ReadIsolation.Marker,
                    _ => await Task.Run(() => Auto(servers, settings, changelogTopics[0]), cancellation).ConfigureAwait(false),
                };
                var options = new CommittedReaderOptions
                {
                    BootstrapServers = servers,
                    Topic = name,
                    ChangelogTopics = changelogTopics,
                    Isolation = rule,
                    FromBeginning = parse.GetValue(fromBeginning),
                    Follow = parse.GetValue(follow),
                    MaxRecords = parse.GetValue(maxRecords),
                    Client = settings,
                };
                using var stop = StopSignal.Listen(stderr, cancellation);
                return await Task.Run(() => Read(options, Enum.Parse<ReadFormat>(parse.GetValue(format)!, ignoreCase: true), openOutput, stderr, stop.Token), CancellationToken.None).ConfigureAwait(false);
            }
            catch (KafkaException e) when (e.Error.Code is ErrorCode.Local_Transport or ErrorCode.Local_AllBrokersDown or ErrorCode.Local_TimedOut or ErrorCode.Local_Resolve)
            {
                // Before, only librdkafka's "Local: Broker transport failure", which did not say that nothing answered.
                CliErrors.Report(stderr, $"cannot read '{name}': no broker at {servers} (--bootstrap-servers) answered ({e.Error.Reason}).");
                return CliErrors.InvalidInput;
            }
            catch (KafkaException e)
            {
                CliErrors.Report(stderr, $"cannot read '{name}' at {servers}: {e.Error.Reason}");
                return CliErrors.InvalidInput;
            }
            catch (InvalidOperationException e)
            {
                CliErrors.Report(stderr, e.Message);
                return CliErrors.InvalidInput;
            }
        });
        return command;
    }

    /// <summary>
    /// The rule for <c>--isolation auto</c>: the marker rule on the embedded broker, which does not isolate
    /// transactions, when the worker's changelog is there (without it no worker transaction wrote anything);
    /// read_committed otherwise.
    /// </summary>
    private static ReadIsolation Auto(string servers, IReadOnlyList<KeyValuePair<string, string>> settings, string changelog)
    {
        var timeout = TimeSpan.FromSeconds(10);
        return CommittedReader.IsEmbeddedBroker(servers, settings, timeout) && CommittedReader.TopicExists(servers, settings, changelog, timeout)
            ? ReadIsolation.Marker
            : ReadIsolation.Broker;
    }

    private static int Read(CommittedReaderOptions options, ReadFormat format, Func<Stream> openOutput, TextWriter stderr, CancellationToken cancellation)
    {
        using var output = new BufferedStream(openOutput(), 1 << 16);
        var lines = new RecordLineWriter(output, format);
        var result = CommittedReader.Read(
            options,
            record =>
            {
                lines.Write(record);
                if (options.Follow)
                {
                    // Following, each record is shown as it commits.
                    output.Flush();
                }
            },
            cancellation,
            () => stderr.WriteLine($"reading {options.Topic} at {options.BootstrapServers} ({(options.Isolation == ReadIsolation.Marker ? $"marker rule: a record counts once its transaction's offset marker is in {string.Join(" or ", options.ChangelogTopics)}" : "read_committed")}){(options.Follow ? "; Ctrl+C stops" : string.Empty)}"));
        output.Flush();
        var notes = new List<string>();
        if (result.Uncommitted > 0)
        {
            notes.Add($"{Counted.Of(result.Uncommitted, "record")} of transactions not committed by the end left out");
        }

        if (result.Dropped > 0)
        {
            notes.Add($"{Counted.Of(result.Dropped, "record")} of aborted transactions left out");
        }

        if (lines.Skipped > 0)
        {
            notes.Add($"{Counted.Of(lines.Skipped, "record")} without a key or a JSON object value skipped (--format input)");
        }

        stderr.WriteLine($"read {Counted.Of(result.Records - lines.Skipped, "record")} from {options.Topic}{(notes.Count == 0 ? string.Empty : "; " + string.Join("; ", notes))}");
        return 0;
    }
}
