using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using CsCheck;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;

namespace StreamSeq.Processing.Tests.Fuzz;

/// <summary>
/// Changelog bytes that were once a valid stream state, then damaged: bytes flipped, numbers overwritten with hostile
/// ones (NaN, infinities, huge, negative, a date past 9999), the record cut short. Whatever the restore makes of them,
/// the stream's next records and the end-of-file drain never throw out of the processor, and every record comes out
/// as outputs, a dead letter or a dropped duplicate. The iteration count keeps the test to a few seconds; set
/// <c>CsCheck_Time</c> (seconds per property) for a longer campaign.
/// </summary>
public sealed class StateFuzzTests
{
    private static readonly double[] HostileNumbers =
    [
        double.NaN, double.PositiveInfinity, double.NegativeInfinity, -1.0, 0.5, 1e9, -1e9, 1e300, -1e300, 2147483648.0,
        253402300800000.0, -62135596800001.0, double.Epsilon, -0.0, long.MaxValue, 1e15,
    ];

    public static TheoryData<string> Cases() => ["level-iso", "level-lateness", "example:hmm-regimes", "example:bocpd-levels", "example:particle-growth", "example:imm-manoeuvre"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Restore_DamagedStateBytes_TheNextRecordsAndTheDrainNeverThrow(string name)
    {
        var (router, options, format, stream, records) = Setup(name);
        var store = new StateStore();
        using (var first = new StreamProcessor(router, options, numericTimeFormat: format))
        {
            foreach (var record in records[..^3])
            {
                first.ProcessEncoded(record, stream, double.NaN, default, new SourcePosition("in", 0, 0), store, new ListSink());
            }
        }

        var valid = StreamStateCodec.ToBytes(store.Streams.Single());
        var edit = Gen.Select(Gen.Int[0, 3], Gen.Int[0, int.MaxValue], Gen.OneOfConst(HostileNumbers), Gen.Byte);
        Gen.Select(edit.Array[1, 4], Gen.Bool).Sample(
            (edits, drain) =>
            {
                var bytes = valid.ToArray();
                foreach (var (how, at, number, b) in edits)
                {
                    var i = at % bytes.Length;
                    switch (how)
                    {
                        case 0:
                            bytes[i] = b;
                            break;
                        case 1 when i + 8 <= bytes.Length:
                            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i), BitConverter.DoubleToInt64Bits(number));
                            break;
                        case 2 when i + 4 <= bytes.Length:
                            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i), (int)Math.Clamp(number, int.MinValue, int.MaxValue));
                            break;
                        case 3:
                            bytes = bytes[..i];
                            break;
                    }

                    if (bytes.Length == 0)
                    {
                        return;
                    }
                }

                using var p = new StreamProcessor(router, options, numericTimeFormat: format);
                var restoredStore = new StateStore();
                var sink = new ListSink();
                var scratch = StepScratch.Mark;
                p.Restore(restoredStore, stream, bytes, out _);
                foreach (var record in records[^3..])
                {
                    var before = (sink.Records.Count, sink.DeadLetters.Count, p.Duplicates);
                    p.ProcessEncoded(record, stream, double.NaN, default, new SourcePosition("in", 0, 1), restoredStore, sink);
                    Assert.True(options.AllowedLateness > TimeSpan.Zero || (sink.Records.Count, sink.DeadLetters.Count, p.Duplicates) != before, "a record gave no output, no dead letter and was no duplicate");
                }

                if (drain)
                {
                    p.Drain(restoredStore, sink);
                }

                Assert.Equal(scratch, StepScratch.Mark);
            },
            iter: 2000,
            threads: 1);
    }

    private static (ModelRouter Router, ProcessorOptions Options, TimeFormat Format, string Stream, byte[][] Records) Setup(string name)
    {
        if (name.StartsWith("example:", StringComparison.Ordinal))
        {
            var example = name["example:".Length..];
            var binding = ExampleModels.Binding(example);
            var rows = ExampleModels.Rows(example, binding.UnitMilliseconds);
            var stream = rows[0].Stream;
            var ofStream = rows.Where(r => r.Stream == stream).Take(40).Select(r => r.Json).ToArray();
            return (new ModelRouter([binding]), new ProcessorOptions(), TimeFormat.ModelUnits, stream, ofStream);
        }

        var level = TestModels.Binding(TestModels.Trend, lag: 2, horizon: 2);
        var lateness = name == "level-lateness" ? TimeSpan.FromSeconds(3) : TimeSpan.Zero;
        var records = Enumerable.Range(0, 30)
            .Select(t => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"time\":\"2026-03-01T00:{t / 60:00}:{t % 60:00}Z\",\"values\":[{Math.Sin(t / 3.0):R}]}}")))
            .ToArray();
        if (lateness > TimeSpan.Zero)
        {
            // Two readings out of order, so some wait in the state for the watermark.
            (records[^5], records[^4]) = (records[^4], records[^5]);
        }

        return (TestModels.Router(level), new ProcessorOptions { AllowedLateness = lateness, MaxTimeSkew = TimeSpan.FromHours(1) }, TimeFormat.EpochMilliseconds, "s", records);
    }
}
