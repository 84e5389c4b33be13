using System.Globalization;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;
using StreamSeq.Testing;

namespace StreamSeq.Estimation.Tests.Contracts;

/// <summary>
/// A library user who passes spans of the wrong size never makes a model read or write outside them: for one model of
/// every family, every public entry point is called with spans one element short, much shorter, empty and longer than
/// the model's sizes (and with the estimate and forecast buffers of a model of other dimensions). Each span sits in a
/// larger array between fences of a sentinel; afterwards the fences are untouched, and the call either threw an
/// <see cref="ArgumentException"/> naming the parameter or — for spans a model may ignore — returned normally.
/// </summary>
public sealed class SpanBoundsTests
{
    private const int FenceLength = 64;

    /// <summary>A NaN whose payload no arithmetic produces.</summary>
    private static readonly long SentinelBits = unchecked((long)0x7FF4_5EED_F00D_0001UL);

    private static readonly double Sentinel = BitConverter.Int64BitsToDouble(SentinelBits);

    /// <summary>Families whose example has no control input or adaptive nonlinear filter: written here.</summary>
    private static readonly Dictionary<string, string> InlineSpecs = new()
    {
        ["inline:kalman-control"] = """
            {"name":"ctl","kind":"linear-gaussian","transition":[[1,1],[0,1]],"transitionNoise":[[0.1,0],[0,0.01]],
             "observation":[[1,0]],"observationNoise":[[1]],"control":[[0.5,0],[1,0.2]],"initialMean":[0,0],"initialCovariance":[[10,0],[0,10]]}
            """,
        ["inline:kalman-3x3"] = """
            {"name":"k3","kind":"linear-gaussian","transition":[[0.9,0.1,0],[0,0.8,0.1],[0,0,0.7]],"transitionNoise":[[1,0,0],[0,1,0],[0,0,1]],
             "observation":[[1,0,0],[0,1,0],[0,0,1]],"observationNoise":[[0.5,0,0],[0,0.5,0],[0,0,0.5]],"initialMean":[0,0,0],
             "initialCovariance":[[3,0,0],[0,3,0],[0,0,3]]}
            """,
        ["inline:adaptive-ekf"] = """
            {"name":"swing","kind":"extended-kalman",
             "model":{"type":"pendulum","dt":0.01,"g":9.81,"qc":0.1,"observationNoise":0.05,
                      "initialMean":[1,0],"initialCovariance":[[0.01,0],[0,0.04]]},
             "adapt":["model.observationNoise"]}
            """,
        ["inline:adaptive-ukf"] = """
            {"name":"swing","kind":"unscented-kalman",
             "model":{"type":"pendulum","dt":0.01,"g":9.81,"qc":0.1,"observationNoise":0.05,
                      "initialMean":[1,0],"initialCovariance":[[0.01,0],[0,0.04]]},
             "adapt":["model.observationNoise"]}
            """,
    };

    public static TheoryData<string> Models()
    {
        var data = new TheoryData<string>();
        // recurrent-nar-init.json is the starting point of training, with no weights to build from.
        foreach (var file in Directory.GetFiles(RepositoryFiles.Path("examples"), "*.json").Order(StringComparer.Ordinal)
                     .Where(f => !f.EndsWith("-init.json", StringComparison.Ordinal)))
        {
            data.Add(Path.GetFileNameWithoutExtension(file));
        }

        foreach (var name in InlineSpecs.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void EveryEntryPoint_WrongSpanSizes_StayInsideTheSpansAndNameTheParameter(string model)
    {
        var estimator = Build(model);
        var info = estimator.Info;
        var failures = new List<string>();
        var probe = new Probe(estimator, FirstObservation(model, info.ObservationDimension), failures);
        probe.Run();
        Assert.True(failures.Count == 0, $"{model} ({estimator.GetType().Name}, state {info.StateLength}, record {info.BackwardRecordLength}, message {info.SmoothingMessageLength}, n {info.StateDimension}, m {info.ObservationDimension}, control {info.ControlDimension}):\n" + string.Join("\n", failures));
    }

    [Theory]
    [InlineData("short", 0.0, 0.0)]
    [InlineData("long", 0.0, 0.0)]
    [InlineData("grown", 2.0, 5.0)]
    [InlineData("grown", -1.0, 0.0)]
    [InlineData("grown", 1e9, 0.0)]
    [InlineData("grown", 0.0, 2.0)]
    [InlineData("full", 3.0, 7.0)]
    public void FixedLagSmoother_StateThatCannotHoldItsWindow_ThrowsNamingTheState(string size, double count, double head)
    {
        // A smoother's state grows with its window, so it is checked against what its window needs, not one length.
        var smoother = new Smoothing.FixedLagSmoother(Build("nile"), lag: 2);
        var inner = smoother.Inner.Info.StateLength;
        var length = size switch
        {
            "short" => inner + 1,
            "long" => smoother.Info.StateLength + 1,
            "grown" => smoother.StateLengthFor(1),
            _ => smoother.Info.StateLength,
        };
        var state = new double[length];
        if (size is "grown" or "full")
        {
            smoother.Initialize(state, 0);
            state[inner] = count;
            state[inner + 1] = head;
        }

        var estimate = new Estimate(smoother.Info);
        var e = Assert.ThrowsAny<ArgumentException>(() => smoother.Step(state, new Observation([1.0]), estimate, default));
        Assert.Equal("state", e.ParamName);
        if (size is "short" or "long")
        {
            Assert.Equal("state", Assert.ThrowsAny<ArgumentException>(() => smoother.Forecast(state, 1.0, new Forecast(smoother.Info, 1))).ParamName);
            Assert.Equal("state", Assert.ThrowsAny<ArgumentException>(() => smoother.ReadState(state, new double[1], new double[1])).ParamName);
        }
    }

    [Theory]
    [InlineData("adaptive-fleet")]
    [InlineData("inline:adaptive-ekf")]
    [InlineData("inline:adaptive-ukf")]
    public void ParameterLearner_WrongSizes_ThrowNamingTheParameter(string model)
    {
        var estimator = Build(model);
        var learner = Assert.IsAssignableFrom<IParameterLearner>(estimator);
        var info = estimator.Info;
        var p = info.ParametersLength;
        Assert.True(p > 0);
        var state = new double[info.StateLength];
        estimator.Initialize(state, 0);
        var values = new double[p];
        learner.ReadParameters(state, values, new double[p]);

        Assert.Equal("state", Assert.ThrowsAny<ArgumentException>(() => learner.ReadParameters(state.AsSpan(1), new double[p], new double[p])).ParamName);
        Assert.Equal("values", Assert.ThrowsAny<ArgumentException>(() => learner.ReadParameters(state, new double[p - 1], new double[p])).ParamName);
        Assert.Equal("deviations", Assert.ThrowsAny<ArgumentException>(() => learner.ReadParameters(state, new double[p], new double[p + 1])).ParamName);
        Assert.Equal("state", Assert.ThrowsAny<ArgumentException>(() => learner.ReadingsLearned(state.AsSpan(0, state.Length - 1))).ParamName);
        Assert.Equal("values", Assert.ThrowsAny<ArgumentException>(() => learner.StartFrom(state, values.AsSpan(1))).ParamName);
        Assert.Equal("state", Assert.ThrowsAny<ArgumentException>(() => learner.StartFrom(state.AsSpan(1), values)).ParamName);

        // The right sizes still work: a stream starts from the values it reads back.
        learner.StartFrom(state, values);
        var back = new double[p];
        learner.ReadParameters(state, back, new double[p]);
        Assert.Equal(values, back);
    }

    [Theory]
    [InlineData("growth-ekf")]
    [InlineData("pendulum-ukf")]
    public void NonlinearFilter_OwnObservationNoiseOfTheWrongSize_ThrowsNamingIt(string model)
    {
        // The adaptive filters pass a stream's learned R in place of the model's: it must be m×m.
        var estimator = Build(model);
        var info = estimator.Info;
        var m = info.ObservationDimension;
        var state = new double[info.StateLength];
        estimator.Initialize(state, 0);
        var estimate = new Estimate(info);
        var forecast = new Forecast(info, 2);
        var values = Enumerable.Repeat(0.5, m).ToArray();
        foreach (var size in new[] { 0, (m * m) - 1, (m * m) + 1 })
        {
            var r = Enumerable.Repeat(0.1, size).ToArray();
            var (step, ahead) = estimator switch
            {
                StreamSeq.Estimation.Gaussian.Nonlinear.ExtendedKalmanFilter ekf => (
                    Record.Exception((Action)(() => ekf.StepWithNoise(state, new Observation(values), estimate, default, r))),
                    Record.Exception((Action)(() => ekf.ForecastWithNoise(state, 1.0, forecast, r)))),
                StreamSeq.Estimation.Gaussian.Nonlinear.UnscentedKalmanFilter ukf => (
                    Record.Exception((Action)(() => ukf.StepWithNoise(state, new Observation(values), estimate, default, r))),
                    Record.Exception((Action)(() => ukf.ForecastWithNoise(state, 1.0, forecast, r)))),
                _ => throw new InvalidOperationException($"{model} is not an extended or unscented Kalman filter"),
            };
            Assert.Equal("r", Assert.IsAssignableFrom<ArgumentException>(step).ParamName);
            Assert.Equal("r", Assert.IsAssignableFrom<ArgumentException>(ahead).ParamName);
        }
    }

    private static IEstimator Build(string model) =>
        InlineSpecs.TryGetValue(model, out var json)
            ? ModelCatalog.Build(ModelSpec.Parse(json))
            : ModelCatalog.Build(ModelSpec.Load(RepositoryFiles.Path("examples", model + ".json")));

    /// <summary>The first row of the example's data (a valid observation for its model), or ones.</summary>
    private static double[] FirstObservation(string model, int m)
    {
        var csv = RepositoryFiles.Path("examples", model + ".csv");
        if (File.Exists(csv))
        {
            var lines = File.ReadLines(csv).Take(2).ToArray();
            var skip = lines[0].Split(',').Length - m;
            var values = lines[1].Split(',').Skip(skip)
                .Select(v => v.Length == 0 ? double.NaN : double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            if (values.Length == m && values.All(double.IsFinite))
            {
                return values;
            }
        }

        return Enumerable.Repeat(model.Contains("ekf", StringComparison.Ordinal) || model.Contains("ukf", StringComparison.Ordinal) ? 0.9 : 1.0, m).ToArray();
    }

    /// <summary>The lengths to try instead of <paramref name="length"/>: one short, half, empty and longer.</summary>
    private static int[] WrongLengths(int length) =>
        new[] { length - 1, length / 2, 0, length + 1, length + 7 }.Where(l => l >= 0 && l != length).Distinct().ToArray();

    /// <summary>A span of a given length in the middle of an array, fenced by the sentinel on both sides.</summary>
    private sealed class Fenced
    {
        private readonly double[] array;

        public Fenced(int length, ReadOnlySpan<double> content = default)
        {
            Length = length;
            array = new double[length + (2 * FenceLength)];
            array.AsSpan().Fill(Sentinel);
            var body = array.AsSpan(FenceLength, length);
            body.Clear();
            content[..Math.Min(content.Length, length)].CopyTo(body);
        }

        public int Length { get; }

        public Span<double> Span => array.AsSpan(FenceLength, Length);

        public bool FencesIntact()
        {
            for (var i = 0; i < FenceLength; i++)
            {
                if (BitConverter.DoubleToInt64Bits(array[i]) != SentinelBits
                    || BitConverter.DoubleToInt64Bits(array[FenceLength + Length + i]) != SentinelBits)
                {
                    return false;
                }
            }

            return true;
        }
    }

    private enum Outcome
    {
        Returned,
        Threw,
        Failed,
    }

    private sealed class Probe(IEstimator estimator, double[] values, List<string> failures)
    {
        private readonly EstimatorInfo info = estimator.Info;
        private readonly IBackwardStep? backward = estimator as IBackwardStep;
        private double[] validState = [];
        private double[] record0 = [];
        private double[] record1 = [];

        private int N => info.StateDimension;

        private int M => info.ObservationDimension;

        public void Run()
        {
            Baseline();
            if (failures.Count > 0)
            {
                return;
            }

            var s = info.StateLength;
            foreach (var l in WrongLengths(s))
            {
                var state = new Fenced(l);
                Check($"Initialize(state[{l}])", "state", l < s, [state], () => estimator.Initialize(state.Span, 7));
            }

            foreach (var l in WrongLengths(s))
            {
                var state = new Fenced(l, validState);
                var estimate = new Estimate(info);
                Check($"Step(state[{l}])", "state", l < s, [state], () => estimator.Step(state.Span, new Observation(values), estimate, default));
            }

            foreach (var l in WrongLengths(M))
            {
                var state = new Fenced(s, validState);
                var obs = new Fenced(l, values);
                obs.Span.Fill(values[0]);
                var estimate = new Estimate(info);
                Check($"Step(observation.Values[{l}])", "observation", true, [state, obs], () => estimator.Step(state.Span, new Observation(obs.Span), estimate, default));
            }

            var c = info.ControlDimension;
            foreach (var l in WrongLengths(c).Where(l => l > 0))
            {
                var state = new Fenced(s, validState);
                var control = new Fenced(l);
                control.Span.Fill(0.5);
                var estimate = new Estimate(info);
                Check($"Step(observation.Control[{l}])", "observation", c > 0, [state, control], () => estimator.Step(state.Span, new Observation(values, control: control.Span), estimate, default));
            }

            foreach (var l in WrongLengths(info.BackwardRecordLength).Where(l => l > 0))
            {
                var state = new Fenced(s, validState);
                var record = new Fenced(l);
                var estimate = new Estimate(info);
                Check($"Step(backwardRecord[{l}])", "backwardRecord", info.CanSmooth, [state, record], () => estimator.Step(state.Span, new Observation(values), estimate, record.Span));
            }

            foreach (var other in OtherInfos())
            {
                var state = new Fenced(s, validState);
                var estimate = new Estimate(other);
                Check($"Step(estimate of n={other.StateDimension} m={other.ObservationDimension} extras={other.ExtrasLength})", "estimate", true, [state], () => estimator.Step(state.Span, new Observation(values), estimate, default));
                if (other.StateDimension == N && other.ObservationDimension == M)
                {
                    continue; // a forecast holds moments only, so its buffers fit
                }

                var forecast = new Forecast(other, 3);
                Check($"Forecast(forecast of n={other.StateDimension} m={other.ObservationDimension})", "forecast", true, [state], () => estimator.Forecast(state.Span, 1.0, forecast));
            }

            foreach (var l in WrongLengths(s))
            {
                var state = new Fenced(l, validState);
                var forecast = new Forecast(info, 3);
                Check($"Forecast(state[{l}])", "state", true, [state], () => estimator.Forecast(state.Span, 1.0, forecast));
            }

            foreach (var l in WrongLengths(s))
            {
                var state = new Fenced(l, validState);
                var mean = new Fenced(N);
                var cov = new Fenced(N * N);
                Check($"ReadState(state[{l}])", "state", l < s, [state, mean, cov], () => estimator.ReadState(state.Span, mean.Span, cov.Span));
            }

            foreach (var l in WrongLengths(N))
            {
                var state = new Fenced(s, validState);
                var mean = new Fenced(l);
                var cov = new Fenced(N * N);
                Check($"ReadState(mean[{l}])", "mean", l < N, [state, mean, cov], () => estimator.ReadState(state.Span, mean.Span, cov.Span));
            }

            foreach (var l in WrongLengths(N * N))
            {
                var state = new Fenced(s, validState);
                var mean = new Fenced(N);
                var cov = new Fenced(l);
                Check($"ReadState(covariance[{l}])", "covariance", l < N * N, [state, mean, cov], () => estimator.ReadState(state.Span, mean.Span, cov.Span));
            }

            if (backward is not null && info.CanSmooth)
            {
                BackwardCases();
            }
        }

        private void BackwardCases()
        {
            var r = info.BackwardRecordLength;
            var g = info.SmoothingMessageLength;
            var e = info.SmoothedExtrasLength;
            Fenced Rec(int l, double[] content) => new(l, content);
            Fenced Msg(int l) => new(l, StartedMessage());

            foreach (var l in WrongLengths(r))
            {
                var rec = Rec(l, record1);
                var msg = Msg(g);
                Check($"StartBackward(record[{l}])", "record", l < r, [rec, msg], () => backward!.StartBackward(rec.Span, msg.Span));
            }

            foreach (var l in WrongLengths(g))
            {
                var rec = Rec(r, record1);
                var msg = new Fenced(l);
                Check($"StartBackward(message[{l}])", "message", l < g, [rec, msg], () => backward!.StartBackward(rec.Span, msg.Span));
            }

            foreach (var l in WrongLengths(r))
            {
                var rec = Rec(l, record0);
                var next = Rec(r, record1);
                var msg = Msg(g);
                Check($"Backward(record[{l}])", "record", l < r, [rec, next, msg], () => backward!.Backward(rec.Span, next.Span, msg.Span));
                rec = Rec(r, record0);
                next = Rec(l, record1);
                msg = Msg(g);
                Check($"Backward(nextRecord[{l}])", "nextRecord", l < r, [rec, next, msg], () => backward!.Backward(rec.Span, next.Span, msg.Span));
            }

            foreach (var l in WrongLengths(g))
            {
                var rec = Rec(r, record0);
                var next = Rec(r, record1);
                var msg = Msg(l);
                Check($"Backward(message[{l}])", "message", l < g, [rec, next, msg], () => backward!.Backward(rec.Span, next.Span, msg.Span));
            }

            foreach (var l in WrongLengths(r))
            {
                var rec = Rec(l, record1);
                var msg = Msg(g);
                var mean = new Fenced(N);
                var cov = new Fenced(N * N);
                Check($"ReadSmoothed(record[{l}])", "record", l < r, [rec, msg, mean, cov], () => backward!.ReadSmoothed(rec.Span, msg.Span, mean.Span, cov.Span));
            }

            foreach (var l in WrongLengths(g))
            {
                var rec = Rec(r, record1);
                var msg = Msg(l);
                var mean = new Fenced(N);
                var cov = new Fenced(N * N);
                Check($"ReadSmoothed(message[{l}])", "message", l < g, [rec, msg, mean, cov], () => backward!.ReadSmoothed(rec.Span, msg.Span, mean.Span, cov.Span));
            }

            foreach (var l in WrongLengths(N))
            {
                var rec = Rec(r, record1);
                var msg = Msg(g);
                var mean = new Fenced(l);
                var cov = new Fenced(N * N);
                Check($"ReadSmoothed(mean[{l}])", "mean", l < N, [rec, msg, mean, cov], () => backward!.ReadSmoothed(rec.Span, msg.Span, mean.Span, cov.Span));
            }

            foreach (var l in WrongLengths(N * N))
            {
                var rec = Rec(r, record1);
                var msg = Msg(g);
                var mean = new Fenced(N);
                var cov = new Fenced(l);
                Check($"ReadSmoothed(covariance[{l}])", "covariance", l < N * N, [rec, msg, mean, cov], () => backward!.ReadSmoothed(rec.Span, msg.Span, mean.Span, cov.Span));
            }

            foreach (var l in WrongLengths(e))
            {
                var rec = Rec(r, record1);
                var msg = Msg(g);
                var extras = new Fenced(l);
                Check($"ReadSmoothedExtras(extras[{l}])", "extras", l < e, [rec, msg, extras], () => backward!.ReadSmoothedExtras(rec.Span, msg.Span, extras.Span));
            }

            foreach (var l in WrongLengths(r))
            {
                var rec = Rec(l, record1);
                var msg = Msg(g);
                var extras = new Fenced(e);
                Check($"ReadSmoothedExtras(record[{l}])", "record", e > 0 && l < r, [rec, msg, extras], () => backward!.ReadSmoothedExtras(rec.Span, msg.Span, extras.Span));
            }
        }

        private double[] StartedMessage()
        {
            var message = new double[info.SmoothingMessageLength];
            backward!.StartBackward(record1, message);
            return message;
        }

        /// <summary>Runs every entry point once with exact sizes, also fenced: it must work and stay inside.</summary>
        private void Baseline()
        {
            var state = new Fenced(info.StateLength);
            Check("Initialize (exact sizes)", null, false, [state], () => estimator.Initialize(state.Span, 7));
            var estimate = new Estimate(info);
            var records = new[] { new Fenced(info.BackwardRecordLength), new Fenced(info.BackwardRecordLength) };
            for (var t = 0; t < 2; t++)
            {
                var obs = new Fenced(M, values);
                var control = new Fenced(info.ControlDimension);
                control.Span.Fill(0.5);
                var rec = records[t];
                Check($"Step {t} (exact sizes)", null, false, [state, obs, control, rec], () => estimator.Step(state.Span, new Observation(obs.Span, 1.0, t, control.Span), estimate, rec.Span));
            }

            validState = state.Span.ToArray();
            record0 = records[0].Span.ToArray();
            record1 = records[1].Span.ToArray();
            var forecast = new Forecast(info, 3);
            Check("Forecast (exact sizes)", null, false, [state], () => estimator.Forecast(state.Span, 1.0, forecast));
            var mean = new Fenced(N);
            var cov = new Fenced(N * N);
            Check("ReadState (exact sizes)", null, false, [state, mean, cov], () => estimator.ReadState(state.Span, mean.Span, cov.Span));
            if (backward is not null && info.CanSmooth)
            {
                var r0 = new Fenced(record0.Length, record0);
                var r1 = new Fenced(record1.Length, record1);
                var msg = new Fenced(info.SmoothingMessageLength);
                var extras = new Fenced(info.SmoothedExtrasLength);
                Check("StartBackward (exact sizes)", null, false, [r1, msg], () => backward.StartBackward(r1.Span, msg.Span));
                Check("Backward (exact sizes)", null, false, [r0, r1, msg], () => backward.Backward(r0.Span, r1.Span, msg.Span));
                Check("ReadSmoothed (exact sizes)", null, false, [r0, msg, mean, cov], () => backward.ReadSmoothed(r0.Span, msg.Span, mean.Span, cov.Span));
                Check("ReadSmoothedExtras (exact sizes)", null, false, [r0, msg, extras], () => backward.ReadSmoothedExtras(r0.Span, msg.Span, extras.Span));
            }
        }

        /// <summary>Infos of models whose output buffers differ from this one's: smaller and larger.</summary>
        private IEnumerable<EstimatorInfo> OtherInfos()
        {
            EstimatorInfo Make(int n, int m, int extras) => new()
            {
                Family = "other",
                StateDimension = n,
                ObservationDimension = m,
                StateLength = 1,
                Extras = extras > 0 ? [new ExtraField("x", extras)] : [],
            };

            if (N > 1 || M > 1 || info.ExtrasLength > 0)
            {
                yield return Make(1, 1, 0);
            }

            yield return Make(N + 2, M + 2, info.ExtrasLength + 3);
        }

        /// <summary>
        /// Runs a call and records a failure unless the fences held and the call either returned (allowed only when
        /// <paramref name="mustThrow"/> is false) or threw an <see cref="ArgumentException"/> naming
        /// <paramref name="parameter"/>.
        /// </summary>
        private Outcome Check(string call, string? parameter, bool mustThrow, Fenced[] spans, Action action)
        {
            var mark = StepScratch.Mark;
            Outcome outcome;
            try
            {
                action();
                outcome = Outcome.Returned;
                if (mustThrow)
                {
                    failures.Add($"{call}: returned normally; expected an ArgumentException naming '{parameter}'.");
                    outcome = Outcome.Failed;
                }
            }
            catch (ArgumentException e) when (parameter is not null)
            {
                StepScratch.Release(mark);
                outcome = Outcome.Threw;
                if (e.ParamName != parameter)
                {
                    failures.Add($"{call}: {e.GetType().Name} names '{e.ParamName}', expected '{parameter}': {e.Message}");
                    outcome = Outcome.Failed;
                }
            }
#pragma warning disable CA1031 // every other exception is a finding, reported with the others
            catch (Exception e)
#pragma warning restore CA1031
            {
                StepScratch.Release(mark);
                failures.Add($"{call}: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
                outcome = Outcome.Failed;
            }

            for (var i = 0; i < spans.Length; i++)
            {
                if (!spans[i].FencesIntact())
                {
                    failures.Add($"{call}: wrote outside span #{i} (length {spans[i].Length}).");
                    outcome = Outcome.Failed;
                }
            }

            return outcome;
        }
    }
}
