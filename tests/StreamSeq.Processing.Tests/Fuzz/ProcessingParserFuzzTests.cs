using System.Text;
using CsCheck;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;
using StreamSeq.Processing.Tests.Views;
using StreamSeq.Processing.Views;
using StreamSeq.Testing;

namespace StreamSeq.Processing.Tests.Fuzz;

/// <summary>
/// Near-valid input records, ISO times and parameter tables (<see cref="HostileMutations"/>): each is read or refused
/// with the parser's own error naming the field or line; no other exception escapes. The iteration counts keep each
/// test to a few seconds; set <c>CsCheck_Time</c> (seconds per property) for a longer campaign.
/// </summary>
public sealed class ProcessingParserFuzzTests
{
    private static readonly SourcePosition Src = new("in", 0, 7);

    private const string Fleet = """
        {"name": "fleet", "kind": "linear-gaussian", "components": [{"type": "local-linear-trend", "levelNoise": 0.05, "slopeNoise": 0.0001}],
         "observationNoise": [[1.0]], "adapt": ["observationNoise", "components[0].levelNoise", "components[0].slopeNoise"],
         "adaptation": {"window": 100}}
        """;

    private static readonly string[] Records =
    [
        """{"stream":"s1","time":"2026-01-01T00:00:00.5Z","values":[1.5,-2,null,"NaN"],"control":[0.25]}""",
        """{"time":1767225600000,"values":[3]}""",
        """{"values":[1e-3, 2E+2], "stream" : "a b", "time": 12.5}""",
        """{"stream":"\u00e9t\u00e9","values":[],"control":[]} /* c */""",
    ];

    [Fact]
    public void InputRecordDecoder_NearValidRecords_DecodeOrFailWithAMessage()
    {
        var decoder = new InputRecordDecoder(4, 4096);
        Gen.Select(HostileMutations.Of(Records), Gen.OneOfConst(string.Empty, "s1"), Gen.OneOfConst(0.0, double.NaN)).Sample(
            (bytes, key, fallback) =>
            {
                if (decoder.TryDecode(bytes, key, fallback, Src, out var record, out _, out var error))
                {
                    Assert.Null(error);
                    Assert.False(record.StreamId.IsEmpty);
                    Assert.True(double.IsFinite(record.Time.Value), "time");
                    foreach (var v in record.Values)
                    {
                        Assert.False(double.IsInfinity(v), "a value is infinite");
                    }

                    foreach (var v in record.Control)
                    {
                        Assert.False(double.IsInfinity(v), "a control input is infinite");
                    }
                }
                else
                {
                    Assert.False(string.IsNullOrWhiteSpace(error));
                }
            },
            iter: 5000,
            threads: 1);
    }

    [Fact]
    public void RecordTime_HostileIsoText_ParsesToAFiniteTimeThatRoundTripsOrIsRefused()
    {
        HostileMutations.TextOf("2026-01-01T00:00:00Z", "2026-01-01 00:05:00.123456+02:00", "9999-12-31T23:59:59.9999999Z", "0001-01-01T00:00:00Z", "2026-02-29").Sample(
            text =>
            {
                if (RecordTime.TryParseIso(text, out var time))
                {
                    Assert.True(double.IsFinite(time.Value));
                    if (!InputRules.IsInRange(time, 0, 1000, out _))
                    {
                        // Parsed but past what can be written (9999-12-31T23:59:59.9999999Z): refused before any output.
                        Assert.False(time.Value is >= InputRules.MinEpochMilliseconds and <= InputRules.MaxEpochMilliseconds);
                        return;
                    }

                    var buffer = new char[64];
                    var written = time.FormatIso(buffer);
                    Assert.True(written > 0, "not formatted");
                    Assert.True(RecordTime.TryParseIso(buffer.AsSpan(0, written), out var back), new string(buffer, 0, written));
                    Assert.Equal(Math.Round(time.Value * 1000), Math.Round(back.Value * 1000));
                }
            },
            iter: 5000,
            threads: 1);
    }

    [Fact]
    public void ParameterTable_NearValidTables_LoadOrFailNamingFileAndLine()
    {
        var router = TestModels.Router(TestModels.Binding(Fleet));
        var path = Path.Combine(Path.GetTempPath(), $"streamseq-table-fuzz-{Guid.NewGuid():N}.jsonl");
        var row = """{"stream":"s1","model":"fleet","steps":1440,"learnedFrom":1436,"parameters":{"observationNoise":{"value":[[0.05]],"sd":[[0.004]]},"components[0].levelNoise":{"value":0.001,"sd":null},"components[0].slopeNoise":0.0002}}""";
        try
        {
            HostileMutations.Of(row, row + "\n" + row.Replace("s1", "s2", StringComparison.Ordinal) + "\n", "\n" + row + "\r\n").Sample(
                bytes =>
                {
                    File.WriteAllBytes(path, bytes);
                    try
                    {
                        var table = ParameterTable.Load(path, router);
                        Assert.InRange(table.Count, 0, 3);
                    }
                    catch (InvalidDataException e)
                    {
                        Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(path)}:[0-9]+: ", e.Message);
                    }
                },
                iter: 1000,
                threads: 1);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ChartRecordReader_NearValidOutputRecords_ReadOrFailWithFormatException()
    {
        var binding = ViewRuns.Binding(ViewRuns.Linear3x2, lag: 2, horizon: 2);
        var lines = ViewRuns.Run(binding, ViewRuns.TwoComponentSeries(6)).Records.Select(r => r.Json).Distinct().Take(12).ToArray();
        var projection = ObservationProjection.For(binding.Estimator);
        Gen.Select(HostileMutations.Of(lines), Gen.Bool).Sample(
            (bytes, dates) =>
            {
                try
                {
                    new ChartRecordReader(name => name == "lin" ? projection : null, dates).Read(bytes);
                }
                catch (FormatException e)
                {
                    Assert.False(string.IsNullOrWhiteSpace(e.Message));
                }
            },
            iter: 2000,
            threads: 1);
    }
}
