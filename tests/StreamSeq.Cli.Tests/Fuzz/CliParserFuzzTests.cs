using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using CsCheck;
using Confluent.Kafka;
using StreamSeq.Cli.Commands;
using StreamSeq.Processing.Records;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Fuzz;

/// <summary>
/// Hostile Kafka records through <c>read</c>'s line writer and hostile <c>--client</c> entries through the command-line
/// parser: every written line is one JSON document safe for a terminal, and every entry is accepted as key=value or
/// refused with a usage error naming it, never an exception. The iteration counts keep each test to a few seconds;
/// set <c>CsCheck_Time</c> (seconds per property) for a longer campaign.
/// </summary>
public sealed class CliParserFuzzTests
{
    private static readonly string[] Values =
    [
        """{"stream":"s1","time":"2026-01-01T00:00:00Z","values":[1.5,null]}""",
        """{"time":1,"values":[2],"nested":{"a":[1e308,-0,"x"]}}""",
        """[1,2,3]""",
        "\"text\"",
        "42",
        "plain text, not JSON",
    ];

    private static Gen<byte[]?> Bytes =>
        Gen.Frequency((1, Gen.Const(() => (byte[]?)null)), (6, HostileMutations.Of(Values).Select(b => (byte[]?)b)));

    private static Gen<ConsumeResult<byte[], byte[]>> Records =>
        Gen.Select(Bytes, Bytes, HostileMutations.TextOf("h", "trace-id"), Bytes, Gen.Long[0, long.MaxValue], Gen.Bool, HostileMutations.TextOf("topic"), (key, value, headerKey, headerValue, offset, timestamp, topic) =>
            new ConsumeResult<byte[], byte[]>
            {
                Topic = topic,
                Partition = new Partition((int)(offset % 7)),
                Offset = new Offset(offset),
                Message = new Message<byte[], byte[]>
                {
                    Key = key!,
                    Value = value!,
                    Headers = headerValue is null ? null! : new Headers { { headerKey, headerValue } },
                    Timestamp = timestamp ? new Timestamp(offset % 4_102_444_800_000, TimestampType.CreateTime) : Timestamp.Default,
                },
            });

    [Fact]
    public void RecordLineWriter_HostileRecords_WriteOneSafeJsonDocumentPerLine()
    {
        Gen.Select(Records, Gen.OneOfConst(ReadFormat.Value, ReadFormat.Record, ReadFormat.Input)).Sample(
            (record, format) =>
            {
                using var output = new MemoryStream();
                var writer = new RecordLineWriter(output, format);
                writer.Write(record);
                var bytes = output.ToArray();
                if (writer.Skipped == 1)
                {
                    Assert.Empty(bytes);
                    return;
                }

                Assert.True(bytes.Length > 0 && bytes[^1] == '\n', "not one line");
                var line = bytes.AsSpan(0, bytes.Length - 1);
                Assert.True(Utf8.IsValid(line), "not UTF-8");
                Assert.True(TerminalSafeText.IsSafeUtf8(line), $"unsafe for a terminal: {Encoding.UTF8.GetString(line)}");
                using var document = JsonDocument.Parse(line.ToArray());
                if (format == ReadFormat.Input)
                {
                    Assert.Equal(Encoding.UTF8.GetString(record.Message.Key), document.RootElement.GetProperty("stream").GetString());
                }
            },
            iter: 2000,
            threads: 1);
    }

    [Fact]
    public void ClientOption_HostileEntries_AreKeyValuePairsOrAUsageErrorNamingTheEntry()
    {
        var entries = HostileMutations.TextOf("security.protocol=SASL_SSL", "client.id=x", "fetch.min.bytes=1", "bootstrap.servers=a:1", "socket.timeout.ms=99999999999", "debug=all", "=x", "x", "message.max.bytes=-0").Array[1, 3];
        Gen.Select(entries, Gen.Bool).Sample(
            (given, read) =>
            {
                var args = read
                    ? new List<string> { "read", "--bootstrap-servers", "localhost:9092", "--topic", "t" }
                    : ["simulate", "--bootstrap-servers", "localhost:9092", "--topic", "t"];
                foreach (var entry in given)
                {
                    args.Add("--client");
                    args.Add(entry);
                }

                var parse = CliInvocation.Parse(CliCommands.Root(TextWriter.Null, TextWriter.Null, () => Stream.Null), args);
                var clientErrors = parse.Errors.Where(e => e.Message.StartsWith("--client", StringComparison.Ordinal)).ToList();
                if (clientErrors.Count == 0 && parse.Errors.Count == 0)
                {
                    var pairs = ClientOption.Parse([.. given]);
                    Assert.Equal(given.Length, pairs.Count);
                    Assert.All(pairs, p => Assert.False(string.IsNullOrWhiteSpace(p.Key)));
                }

                // An entry starting with @ is an entry like any other (no response files, AtSignArgumentTests).
                foreach (var error in clientErrors)
                {
                    Assert.Contains(given, g => error.Message.StartsWith($"--client '{g}': ", StringComparison.Ordinal));
                }
            },
            iter: 1000,
            threads: 1);
    }

    /// <summary>
    /// Every option of every command that takes a value, given a hostile one: the parser's errors are the project's own
    /// lines naming the option, never the conversion message of System.CommandLine, which names a .NET type ("Cannot
    /// parse argument '-5' for option '--seed' as expected type 'System.UInt64'"). The options are read from the command
    /// tree, so an option added later is covered without a new case.
    /// </summary>
    [Fact]
    public void EveryValuedOption_HostileValues_GiveErrorsThatNameNoDotNetType()
    {
        var root = CliCommands.Root(TextWriter.Null, TextWriter.Null, () => Stream.Null);
        var options = root.Subcommands
            .SelectMany(c => c.Options.Where(o => o.Arity.MaximumNumberOfValues > 0 && o.ValueType != typeof(bool)).Select(o => (Command: c.Name, Option: o.Name)))
            .ToList();
        Assert.True(options.Count > 40, $"only {options.Count} options with values");
        // No NUL: a process's arguments cannot hold one (and a file option's parser throws on it before any check).
        var values = HostileMutations.TextOf("-5", "abc", "1e400", "0", "18446744073709551616", "NaN", "-99999999999", "1.5", "PT1S", "a:1")
            .Where(v => !v.Contains('\0', StringComparison.Ordinal));
        Gen.Select(Gen.OneOfConst([.. options]), values).Sample(
            (target, value) =>
            {
                var parse = CliInvocation.Parse(root, [target.Command, target.Option, value]);
                foreach (var error in parse.Errors.Where(e => !e.Message.EndsWith(" is required.", StringComparison.Ordinal)))
                {
                    // Every other error is about the one option given, and says which it is.
                    var line = CliInvocation.Named(error);
                    Assert.DoesNotContain("System.", line, StringComparison.Ordinal);
                    Assert.DoesNotContain("expected type", line, StringComparison.Ordinal);
                    Assert.Contains(target.Option, line, StringComparison.Ordinal);
                }
            },
            iter: 3000,
            threads: 1);
    }
}
