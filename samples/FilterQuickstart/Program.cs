// First steps with StreamSeq, the way a FilterPy user starts: a constant-velocity Kalman filter, one reading at a
// time; then the same model from a JSON spec; then the worker's processor turning input records into output records.
using System.Globalization;
using System.Text;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;

// Readings of a position that moves at about one unit per step, with measurement noise (deterministic here).
double[] readings = [.. Enumerable.Range(1, 20).Select(t => t + (0.8 * Math.Sin(1.7 * t)))];

// 1. The filter from matrices (row-major): F, Q, H, R and the prior x, P, as FilterPy's KalmanFilter takes them.
var model = new LinearGaussianModel(
    new MatrixDynamics(
        stateDimension: 2,
        transition: [1, 1, 0, 1],                    // F: position += velocity
        transitionNoise: [0.25, 0.5, 0.5, 1.0]),     // Q: white-noise acceleration, variance 1
    observationDimension: 1,
    observation: [1, 0],                             // H: the position is measured
    observationNoise: [0.64],                        // R
    initialMean: [0, 0],                             // x
    initialCovariance: [500, 0, 0, 500]);            // P
var filter = new KalmanFilter(model);
var state = new double[filter.Info.StateLength];     // one stream's state: plain doubles you own
filter.Initialize(state, seed: 0);
var estimate = new Estimate(filter.Info);
foreach (var z in readings)
{
    filter.Step(state, new Observation([z]), estimate, default);  // predict and update in one step
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"step z={z:R} position={estimate.StateMean[0]:R} velocity={estimate.StateMean[1]:R} variance={estimate.StateCovariance[0]:R} logLik={estimate.LogLikelihood:R} nis={estimate.NormalizedInnovationSquared:R}"));
}

// 2. The same model as a JSON spec (the format of `streamseq run --model` and of the worker's settings).
const string Spec = """
    {"name":"tracker","kind":"linear-gaussian",
     "transition":[[1,1],[0,1]],"transitionNoise":[[0.25,0.5],[0.5,1.0]],
     "observation":[[1,0]],"observationNoise":[[0.64]],
     "initialMean":[0,0],"initialCovariance":[[500,0],[0,500]]}
    """;
var fromSpec = ModelCatalog.Build(ModelSpec.Parse(Spec));
var specState = new double[fromSpec.Info.StateLength];
fromSpec.Initialize(specState, seed: 0);
var specEstimate = new Estimate(fromSpec.Info);
foreach (var z in readings)
{
    fromSpec.Step(specState, new Observation([z]), specEstimate, default);
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"spec position={specEstimate.StateMean[0]:R} velocity={specEstimate.StateMean[1]:R}"));

// 3. The worker's processor without Kafka: input records in, the output records of `streamseq run` out (filtered,
//    fixed-lag smoothed with lag 2, one-step forecasts). A custom transport does exactly this with its own I/O.
using var processor = new StreamProcessor(new ModelRouter([ModelBindingFactory.FromSpec(ModelSpec.Parse(Spec), lag: 2, horizon: 1)]), numericTimeFormat: TimeFormat.ModelUnits);
var store = new StateStore();
var sink = new ConsoleSink();
for (var t = 0; t < readings.Length; t++)
{
    var record = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $$"""{"stream":"s1","time":{{t + 1}},"values":[{{readings[t]:R}}]}"""));
    processor.ProcessEncoded(record, default, double.NaN, default, SourcePosition.FileLine("readings", t + 1), store, sink);
}

/// <summary>Writes every output record as a line, as `streamseq run` writes its output file.</summary>
internal sealed class ConsoleSink : IRecordSink
{
    public void Write(OutputKind kind, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> record) =>
        Console.WriteLine("record " + Encoding.UTF8.GetString(record));

    public void DeadLetter(in DeadLetter letter) => Console.WriteLine($"dead-letter {letter.Reason}");
}
