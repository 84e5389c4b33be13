using System.Diagnostics.Metrics;
using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.Telemetry;

/// <summary>
/// The processor's instruments on one <see cref="Meter"/> named <see cref="MeterName"/>. Exported by the worker
/// through OpenTelemetry; free when nobody listens.
/// </summary>
/// <remarks>
/// Names and units follow OpenTelemetry's conventions: dot-separated lower-case names, durations in seconds
/// (<c>s</c>), counts in annotated units (<c>{record}</c>). Prometheus renders <c>streamseq.step.duration</c> (unit
/// <c>s</c>) as <c>streamseq_step_duration_seconds</c> and counters with a <c>_total</c> suffix. Counters whose
/// absence would hide a rate from an alert (records in, duplicates, every dead-letter reason) start at zero.
/// </remarks>
public sealed class ProcessingMetrics : IDisposable
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "StreamSeq.Processing";

    private readonly Meter meter;
    private readonly Counter<long> recordsIn;
    private readonly Counter<long> recordsOut;
    private readonly Counter<long> deadLetters;
    private readonly Counter<long> anomalies;
    private readonly Counter<long> duplicates;
    private readonly Counter<long> numericalRepairs;
    private readonly Counter<long> streamsCreated;
    private readonly Counter<long> statesDiscarded;
    private readonly Histogram<double> stepDuration;

    /// <summary>Creates the instruments (use <paramref name="meterFactory"/> in a host, null elsewhere).</summary>
    public ProcessingMetrics(IMeterFactory? meterFactory = null)
    {
        meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        recordsIn = meter.CreateCounter<long>("streamseq.records.in", "{record}", "Input records handed to the processor.");
        recordsOut = meter.CreateCounter<long>("streamseq.records.out", "{record}", "Output records by kind.");
        deadLetters = meter.CreateCounter<long>("streamseq.deadletters", "{record}", "Records sent to the dead-letter topic, by reason.");
        anomalies = meter.CreateCounter<long>("streamseq.anomalies", "{alert}", "Anomaly alerts emitted, by model and rule.");
        duplicates = meter.CreateCounter<long>("streamseq.duplicates", "{record}", "Exact duplicates (same stream and time) dropped.");
        numericalRepairs = meter.CreateCounter<long>("streamseq.numerical.repairs", "{event}", "Covariance repairs and filter re-initialisations, by model and kind.");
        streamsCreated = meter.CreateCounter<long>("streamseq.streams.created", "{stream}", "Streams started from their model's prior.");
        statesDiscarded = meter.CreateCounter<long>("streamseq.streams.discarded", "{stream}", "Stream states discarded, their streams started again from the prior: restored states whose model changed or whose bytes are not a stream state, and states a model threw on.");
        stepDuration = meter.CreateHistogram<double>(
            "streamseq.step.duration",
            "s",
            "Time to process one observation (estimator step, smoothing, forecasts, rules, encoding), by model.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5e-6, 1e-6, 2e-6, 5e-6, 10e-6, 20e-6, 50e-6, 100e-6, 200e-6, 500e-6, 1e-3, 5e-3] });
        recordsIn.Add(0);
        duplicates.Add(0);
        // Every reason a record can be dead-lettered for exists from the start, at zero (an alert takes its rate);
        // StreamLimit is kept only for its number and is never produced.
        foreach (var reason in Enum.GetValues<DeadLetterReason>().Where(r => r != DeadLetterReason.StreamLimit))
        {
            deadLetters.Add(0, new KeyValuePair<string, object?>("reason", DeadLetterReasons.Name(reason)));
        }
    }

    /// <summary>The meter, for hosts that add their own instruments to it.</summary>
    public Meter Meter => meter;

    /// <summary>Counts an input record.</summary>
    public void RecordIn() => recordsIn.Add(1);

    /// <summary>Counts an output record.</summary>
    public void RecordOut(OutputKind kind) => recordsOut.Add(1, new KeyValuePair<string, object?>("kind", KindName(kind)));

    /// <summary>Counts a dead letter.</summary>
    public void DeadLetter(DeadLetterReason reason) => deadLetters.Add(1, new KeyValuePair<string, object?>("reason", DeadLetterReasons.Name(reason)));

    /// <summary>Counts an alert.</summary>
    public void Anomaly(string model, string rule) =>
        anomalies.Add(1, new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("rule", rule));

    /// <summary>Counts a dropped duplicate.</summary>
    public void Duplicate() => duplicates.Add(1);

    /// <summary>Counts a numerical repair or re-initialisation.</summary>
    public void NumericalRepair(string model, string kind) =>
        numericalRepairs.Add(1, new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("kind", kind));

    /// <summary>Counts a new stream.</summary>
    public void StreamCreated() => streamsCreated.Add(1);

    /// <summary>Counts a discarded restored state.</summary>
    public void StateDiscarded() => statesDiscarded.Add(1);

    /// <summary>Records one step's duration in seconds.</summary>
    public void StepDuration(string model, double seconds) =>
        stepDuration.Record(seconds, new KeyValuePair<string, object?>("model", model));

    /// <inheritdoc />
    public void Dispose() => meter.Dispose();

    private static string KindName(OutputKind kind) => kind switch
    {
        OutputKind.Filtered => "filtered",
        OutputKind.Smoothed => "smoothed",
        OutputKind.Forecast => "forecast",
        _ => "anomaly",
    };
}
