using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;

namespace StreamSeq.Benchmarks.Codecs;

/// <summary>
/// The per-record codecs of the worker for a local-linear-trend stream: decoding an input record, encoding the
/// filtered output record, writing and reading the changelog state, and the whole processor path (decode, step,
/// encode) that the end-to-end harness's worker runs for every record.
/// </summary>
[MemoryDiagnoser]
public class RecordCodecBenchmarks
{
    private const string Model = """
        {"name":"trend","kind":"linear-gaussian","timeUnit":"PT1M",
         "components":[{"type":"local-linear-trend","levelNoise":0.01,"slopeNoise":0.0001}],
         "observationNoise":[[0.25]],"initialMean":[20,0],"initialCovariance":[[100,0],[0,1]]}
        """;

    /// <summary>The same model with the demo's chi-square anomaly rule, evaluated on every record's step.</summary>
    private const string ModelWithRule = """
        {"name":"trend","kind":"linear-gaussian","timeUnit":"PT1M",
         "components":[{"type":"local-linear-trend","levelNoise":0.01,"slopeNoise":0.0001}],
         "observationNoise":[[0.25]],"initialMean":[20,0],"initialCovariance":[[100,0],[0,1]],
         "anomalyRules":[{"name":"surprise","type":"chi-square","threshold":0.0001,"clearThreshold":0.05}]}
        """;

    /// <summary>
    /// A family whose records carry extras (state probabilities, Viterbi head and most likely state; smoothed records
    /// add the Viterbi state), as <c>examples/hmm-regimes.json</c>.
    /// </summary>
    private const string HmmModel = """
        {"name":"regimes","kind":"hmm","timeUnit":"PT1M","initialProbabilities":[0.5,0.3,0.2],
         "transition":[[0.90,0.07,0.03],[0.05,0.90,0.05],[0.04,0.06,0.90]],
         "emission":{"type":"gaussian","means":[-2.0,0.0,3.0],"variances":[1.0,0.5,2.0]},"viterbiWindow":32}
        """;

    private const int Records = 256;
    private readonly ArrayBufferWriter<byte> stateBuffer = new(512);
    private InputRecordDecoder decoder = null!;
    private OutputRecordWriter writer = null!;
    private StreamProcessor processor = null!;
    private StreamProcessor processorWithRule = null!;
    private StateStore storeWithRule = null!;
    private StateStore store = null!;
    private StreamProcessor hmmProcessor = null!;
    private StateStore hmmStore = null!;
    private Estimate hmmEstimate = null!;
    private NullSink sink = null!;
    private ModelRouter router = null!;
    private StreamState state = null!;
    private Estimate estimate = null!;
    private byte[] stateBytes = null!;
    private byte[][] epochRecords = null!;
    private byte[] isoRecord = null!;
    private long round;

    [GlobalSetup]
    public void Setup()
    {
        router = new ModelRouter([ModelBindingFactory.FromSpec(ModelSpec.Parse(Model))]);
        decoder = new InputRecordDecoder();
        writer = new OutputRecordWriter();
        processor = new StreamProcessor(router, new ProcessorOptions(), numericTimeFormat: TimeFormat.EpochMilliseconds);
        store = new StateStore();
        processorWithRule = new StreamProcessor(new ModelRouter([ModelBindingFactory.FromSpec(ModelSpec.Parse(ModelWithRule))]), new ProcessorOptions(), numericTimeFormat: TimeFormat.EpochMilliseconds);
        storeWithRule = new StateStore();
        sink = new NullSink();
        var hmm = ModelBindingFactory.FromSpec(ModelSpec.Parse(HmmModel), lag: 2, horizon: 2);
        hmmProcessor = new StreamProcessor(new ModelRouter([hmm]), new ProcessorOptions(), numericTimeFormat: TimeFormat.EpochMilliseconds);
        hmmStore = new StateStore();
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        epochRecords = [.. Enumerable.Range(0, Records).Select(i => Encoding.UTF8.GetBytes($"{{\"time\":{start + (i * 60_000L)},\"values\":[{20 + (0.01 * i):F4}]}}"))];
        isoRecord = """{"time":"2026-01-01T00:01:00Z","values":[21.3785]}"""u8.ToArray();

        // A stream with some history, and the estimate of its last step.
        var binding = router.Models.Values.Single();
        state = new StreamState("sensor-000042", binding, 42);
        estimate = new Estimate(binding.Estimator.Info);
        for (var i = 0; i < 10; i++)
        {
            binding.Estimator.Step(state.Buffer, new Observation([20 + (0.1 * i)], i == 0 ? 0 : 1, i, default), estimate, default);
        }

        var hmmState = new double[hmm.Estimator.Info.StateLength];
        hmm.Estimator.Initialize(hmmState, 0);
        hmmEstimate = new Estimate(hmm.Estimator.Info);
        for (var i = 0; i < 10; i++)
        {
            hmm.Estimator.Step(hmmState, new Observation([i % 3 == 0 ? 2.5 : 0.1], 1, i, default), hmmEstimate, default);
        }

        state.Steps = 10;
        state.LastModelTime = 9;
        state.LastTime = new RecordTime(9, TimeFormat.ModelUnits);
        stateBytes = StreamStateCodec.ToBytes(state);
        for (var i = 0; i < Records; i++)
        {
            processor.ProcessEncoded(epochRecords[i], $"warm-{i % 16}", double.NaN, default, default, store, sink);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        writer.Dispose();
        processor.Dispose();
        processorWithRule.Dispose();
        hmmProcessor.Dispose();
    }

    [Benchmark(Description = "decode input record (epoch time, 1 value)")]
    public bool DecodeEpoch() => decoder.TryDecode(epochRecords[1], "sensor-000042", double.NaN, default, out _, out _, out _);

    [Benchmark(Description = "decode input record (ISO-8601 time, 1 value)")]
    public bool DecodeIso() => decoder.TryDecode(isoRecord, "sensor-000042", double.NaN, default, out _, out _, out _);

    [Benchmark(Description = "encode filtered output record")]
    public int EncodeFiltered() => writer.WriteFiltered("sensor-000042", new RecordTime(1_767_225_660_000, TimeFormat.EpochMilliseconds), "trend", estimate).Length;

    [Benchmark(Description = "encode filtered output record (HMM, with extras)")]
    public int EncodeFilteredHmm() => writer.WriteFiltered("sensor-000042", new RecordTime(1_767_225_660_000, TimeFormat.EpochMilliseconds), "regimes", hmmEstimate).Length;

    [Benchmark(Description = "write changelog state")]
    public int WriteState()
    {
        stateBuffer.ResetWrittenCount();
        StreamStateCodec.Write(state, stateBuffer);
        return stateBuffer.WrittenCount;
    }

    [Benchmark(Description = "read changelog state")]
    public StreamState? ReadState() => StreamStateCodec.Read("sensor-000042", stateBytes, router, out _);

    /// <summary>As <see cref="Process"/>, with a chi-square anomaly rule on every step (it fires where the readings'
    /// ramp starts again, at most once per 256 records).</summary>
    [Benchmark(Description = "processor: decode, step, chi-square rule, encode", OperationsPerInvoke = Records)]
    public void ProcessWithRule() => Run(processorWithRule, storeWithRule);

    /// <summary>One record through the processor: decode, Kalman step, filtered record, state bookkeeping.</summary>
    [Benchmark(Description = "processor: decode, step, encode", OperationsPerInvoke = Records)]
    public void Process() => Run(processor, store);

    /// <summary>
    /// One record of an HMM stream with fixed-lag smoothing (lag 2) and forecasts (horizons 1 and 2): decode, forward
    /// step, two backward steps, and four output records (filtered, smoothed, two forecasts) with the family's extras.
    /// </summary>
    [Benchmark(Description = "processor: HMM, decode, step, lag 2, horizon 2, encode", OperationsPerInvoke = Records)]
    public void ProcessHmmWithLagAndHorizon() => Run(hmmProcessor, hmmStore);

    private void Run(StreamProcessor through, StateStore states)
    {
        // Time moves forward by a minute per call so no record is a duplicate or late.
        var offset = Interlocked.Increment(ref round) * Records * 60_000L;
        for (var i = 0; i < Records; i++)
        {
            decoder.TryDecode(epochRecords[i], "sensor-000042", double.NaN, default, out var record, out _, out _);
            through.Process(new InputRecord(record.StreamId, new RecordTime(record.Time.Value + offset, record.Time.Format), record.Values, default), states, sink);
        }
    }

    private sealed class NullSink : IRecordSink
    {
        public void Write(OutputKind kind, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> record)
        {
        }

        public void DeadLetter(in DeadLetter letter) => throw new InvalidOperationException(letter.Message);
    }
}
