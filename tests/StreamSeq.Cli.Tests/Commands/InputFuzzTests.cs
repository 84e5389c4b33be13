using System.Text;
using CsCheck;
using StreamSeq.Cli.Commands;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary>
/// Adversarial files through <c>run</c>, <c>detect</c> and <c>fit</c> in process: CSV, JSON Lines and model specs built
/// from hostile pieces (huge and non-finite numbers, garbage, quotes and line breaks, deep nesting, truncation,
/// byte-order marks, UTF-16, invalid UTF-8). Whatever the file, the command ends with exit code 0, 1 or 2: no
/// exception escapes the command, no case runs longer than a generous bound, and no case allocates without bound.
/// </summary>
public sealed class InputFuzzTests : IDisposable
{
    private const long MaxAllocatedBytes = 256L << 20;
    private static readonly TimeSpan MaxDuration = TimeSpan.FromSeconds(60);

    private static readonly string[] Numbers =
    [
        "1", "-2.5", "20.125", "0", "-0", "1e308", "-1e308", "1e999", "-1e999", "1e-320", "Infinity", "-inf", "NaN", "nan", string.Empty,
        "abc", "null", "0x10", "1,5", "\"3\"", "\"4\n5\"", "\"", "9999999999999999999999999", " 7 ", "\u00A0", "\u001b[2J", "½",
    ];

    private static readonly string[] Times =
    [
        "1", "2", "3", "2.5", "-1", "1e300", "-1e300", "1e999", "NaN", string.Empty, "abc", "2026-01-01T00:00:00Z", "2026-01-01 00:05:00",
        "9999-12-31T23:59:59Z", "9999-12-31T23:59:59.9999999Z", "0001-01-01T00:00:00Z", "2026-13-40T99:99:99Z", "\"2026-01-01\n00:00:00\"",
    ];

    private static readonly string[] Headers =
    [
        "stream,time,v", "time,v", "stream,time,v,w", "stream,time,v,control_u", "timestamp,value", "stream,time", "v", string.Empty,
        "\"stream\",\"time\",\"v\"", "stream,time,v,v", "stream;time;v",
    ];

    private static readonly string[] JsonValues =
    [
        "1", "-2.5", "1e308", "1e999", "-1e999", "null", "\"NaN\"", "\"Infinity\"", "\"abc\"", "true", "{}", "[]", "[1]", "1.0e-400",
        "123456789012345678901234567890", "\"\\u0000\"", "\"\\ud800\"",
    ];

    private static readonly string[] SpecFields =
    [
        "\"name\":\"m\"", "\"kind\":\"linear-gaussian\"", "\"kind\":\"anomaly-detector\"", "\"kind\":\"hmm\"", "\"kind\":42", "\"transition\":[[1]]",
        "\"transition\":[[1e999]]", "\"transitionNoise\":[[1]]", "\"transitionNoise\":[[-1]]", "\"observation\":[[1]]", "\"observation\":[[0]]",
        "\"observationNoise\":[[1]]", "\"observationNoise\":[[1e308]]", "\"initialMean\":[0]", "\"initialCovariance\":[[1]]",
        "\"initialization\":\"diffuse\"", "\"timeUnit\":\"PT1M\"", "\"timeUnit\":\"P99999999Y\"", "\"timeUnit\":\"-PT1S\"", "\"forecastStep\":1e308",
        "\"components\":[{\"type\":\"local-level\",\"levelNoise\":0.1}]", "\"components\":[{\"type\":\"trigonometric-seasonal\",\"period\":1e9,\"harmonics\":99}]",
        "\"anomalyRules\":[{\"type\":\"nis\",\"threshold\":\"x\"}]", "\"seed\":-1", "\"unknown\":" + new string('[', 200) + new string(']', 200),
    ];

    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-fuzz-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>A file's bytes after one of the hostile transformations.</summary>
    private static Gen<byte[]> Encoded(Gen<string> text) =>
        Gen.Select(text, Gen.Int[0, 6], Gen.Int[0, 10_000], (t, how, at) =>
        {
            var utf8 = Encoding.UTF8.GetBytes(t);
            return how switch
            {
                1 => [.. Encoding.UTF8.GetPreamble(), .. utf8],
                2 => [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(t)],
                3 => utf8[..Math.Min(utf8.Length, at % (utf8.Length + 1))],
                4 => [.. utf8[..Math.Min(utf8.Length, at % (utf8.Length + 1))], 0xFF, 0xC3, 0x28, 0xED, 0xA0, 0x80, .. utf8[Math.Min(utf8.Length, at % (utf8.Length + 1))..]],
                5 => [.. utf8, .. Enumerable.Range(0, at % 300).Select(i => (byte)((i * 131) % 256))],
                _ => utf8,
            };
        });

    private static Gen<string> Csv(Gen<string> header) =>
        Gen.Select(header, Gen.Select(Gen.OneOfConst("a", "b", string.Empty, "\"x,y\"", "\u00e9t\u00e9"), Gen.OneOfConst(Times), Gen.OneOfConst(Numbers).Array[0, 3], (s, t, v) => string.Join(",", [s, t, .. v])).Array[0, 40], (h, rows) => h + "\n" + string.Join("\n", rows) + "\n");

    private static Gen<string> JsonLines =>
        Gen.Frequency(
            (6, Gen.Select(Gen.OneOfConst("\"a\"", "\"b\"", "1", "null", "\"\""), Gen.OneOfConst(Times), Gen.OneOfConst(JsonValues).Array[0, 3], (s, t, v) => $"{{\"stream\":{s},\"time\":{(double.TryParse(t, out _) ? t : $"\"{t}\"")},\"values\":[{string.Join(",", v)}]}}")),
            (1, Gen.Int[1, 3000].Select(depth => $"{{\"stream\":\"a\",\"time\":1,\"values\":{new string('[', depth)}{new string(']', depth)}}}")),
            (1, Gen.Byte.Array[0, 60].Select(b => Encoding.Latin1.GetString(b))),
            (1, Gen.OneOfConst("{", "[1,2", "{\"values\":", "\"\\u", "{\"stream\":\"a\",\"time\":1,\"values\":[1]}{")))
        .Array[0, 30].Select(lines => string.Join("\n", lines) + "\n");

    private static Gen<string> Spec =>
        Gen.Frequency(
            (4, Gen.OneOfConst(SpecFields).Array[0, 12].Select(f => "{" + string.Join(",", f) + "}")),
            (1, Gen.Select(Gen.Int[0, 400], depth => new string('{', depth) + "\"a\":" + new string('}', depth))),
            (1, Gen.Int[0, 300].Select(cut => File.ReadAllText(RepositoryFiles.Path("examples", "nile.json"))[..Math.Min(cut, File.ReadAllText(RepositoryFiles.Path("examples", "nile.json")).Length)])));

    [Fact]
    public void Run_HostileObservationFiles_NeverThrowHangOrGrowWithoutBound()
    {
        var model = RepositoryFiles.Path("examples", "nile.json");
        Gen.Select(Gen.Bool, Encoded(Csv(Gen.OneOfConst(Headers))), Encoded(JsonLines), Gen.Int[0, 3]).Sample(
            (csv, csvBytes, jsonBytes, lag) =>
            {
                var input = Path.Combine(dir, csv ? "in.csv" : "in.jsonl");
                File.WriteAllBytes(input, csv ? csvBytes : jsonBytes);
                Bounded(errors => RunCommand.Execute(new RunRequest { ModelPath = model, InputPath = input, OutputPath = Path.Combine(dir, "out.jsonl"), Lag = lag, Horizon = lag, Smooth = lag == 1, Lateness = lag, MaxTimeSkew = lag == 2 ? 10 : null, DeadLetterPath = Path.Combine(dir, "dead.jsonl") }, TextWriter.Null, errors), "m.json");
            },
            iter: 300,
            threads: 1);
    }

    [Fact]
    public void Detect_HostileNabFiles_NeverThrowHangOrGrowWithoutBound()
    {
        Encoded(Csv(Gen.OneOfConst("timestamp,value", "time,value", "timestamp,value,label", "value,timestamp", "timestamp", string.Empty))).Sample(
            bytes =>
            {
                var input = Path.Combine(dir, "nab.csv");
                File.WriteAllBytes(input, bytes);
                Bounded(errors => DetectCommand.Execute(input, Path.Combine(dir, "scores.csv"), "streamseq", null, 1, TextWriter.Null, errors), null);
            },
            iter: 300,
            threads: 1);
    }

    [Fact]
    public void RunAndFit_HostileModelSpecs_NeverThrowHangOrGrowWithoutBound()
    {
        var input = RepositoryFiles.Path("examples", "nile.csv");
        Gen.Select(Encoded(Spec), Gen.Bool).Sample(
            (specBytes, fit) =>
            {
                var model = Path.Combine(dir, "m.json");
                File.WriteAllBytes(model, specBytes);
                Bounded(
                    errors => fit
                        ? FitCommand.Execute(model, input, Path.Combine(dir, "fitted.json"), ["observationNoise"], null, 5, 0, errors)
                        : RunCommand.Execute(model, input, Path.Combine(dir, "out.jsonl"), 1, 1, false, 0, false, null, TextWriter.Null, errors),
                    "m.json");
            },
            iter: 300,
            threads: 1);
    }

    /// <summary>Runs one command on its own thread the way the CLI does (known errors become exit codes), with bounds.</summary>
    private static void Bounded(Func<TextWriter, int> command, string? modelFile)
    {
        var errors = new StringWriter();
        int? code = null;
        Exception? escaped = null;
        long allocated = 0;
        var thread = new Thread(() =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                code = CliErrors.Run(errors, modelFile, () => command(errors));
            }
            catch (Exception e)
            {
                escaped = e;
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        });
        thread.Start();
        Assert.True(thread.Join(MaxDuration), $"a case ran longer than {MaxDuration}: {errors}");
        Assert.True(escaped is null, $"an exception escaped: {escaped}\n{errors}");
        Assert.InRange(code!.Value, 0, 2);
        Assert.True(allocated < MaxAllocatedBytes, $"a case allocated {allocated:N0} bytes");
        Assert.DoesNotContain(errors.ToString(), c => char.IsControl(c) && c is not '\n' and not '\r');
    }
}
