using System.Globalization;
using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Discrete;

/// <summary>
/// The batch forward–backward and the streaming filter against an independent log-space forward–backward
/// (Fixtures/hmm/make_awkward_cases.py, scipy's logsumexp) on cases that stress the scaled recursions: zero initial and
/// transition probabilities, a reading far more likely in a state the chain cannot be in yet, a single state, counts of
/// 0 and the first and last category, gaps at the start and the end, and sequences of 20,000 readings whose joint
/// density is about e^-34000.
/// </summary>
public sealed class HmmAwkwardCaseTests
{
    private const double Tol = 1e-9;

    private static readonly Lazy<JsonElement[]> Cases = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "hmm", "awkward_cases.json")));
        return [.. doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.Clone())];
    });

    public static TheoryData<string> Names() => [.. Cases.Value.Select(c => c.GetProperty("name").GetString()!)];

    [Theory]
    [MemberData(nameof(Names))]
    public void ForwardBackward_AwkwardCase_MatchesTheLogSpaceReference(string name)
    {
        var c = Case(name);
        var (model, series) = Build(c);
        var k = model.StateCount;
        var posterior = HmmInference.ForwardBackward(model, series);
        var rows = c.GetProperty("rows").EnumerateArray().Select(r => r.GetInt32()).ToArray();
        var lpd = Vector(c.GetProperty("log_pred_density"));
        for (var r = 0; r < rows.Length; r++)
        {
            var t = rows[r];
            var at = $"{name} t={t + 1}";
            Expect.Close(Row(c, "pred", r), posterior.Predicted.AsSpan(t * k, k), Tol, $"{at} predicted", Tol);
            Expect.Close(Row(c, "filt", r), posterior.Filtered.AsSpan(t * k, k), Tol, $"{at} filtered", Tol);
            Expect.Close(Row(c, "smooth", r), posterior.Smoothed.AsSpan(t * k, k), Tol, $"{at} smoothed", Tol);
            Expect.Close(Row(c, "log_alpha", r), posterior.LogAlpha.AsSpan(t * k, k), Tol, $"{at} log alpha");
            Expect.Close(Row(c, "log_beta", r), posterior.LogBeta.AsSpan(t * k, k), Tol, $"{at} log beta");
            Expect.Close(lpd[r], posterior.LogPredictiveDensity[t], Tol, $"{at} log p(y_t | y_1:t-1)");
        }

        Expect.Close(Number(c.GetProperty("loglik")), posterior.LogLikelihood, Tol, $"{name} log-likelihood");
        var xi = Matrix(c.GetProperty("xi"));
        Expect.Close(xi, posterior.ExpectedTransitionCounts, Tol, $"{name} expected transition counts", 1e-7);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Filter_AwkwardCase_MatchesTheLogSpaceReference(string name)
    {
        var c = Case(name);
        var (model, series) = Build(c);
        var k = model.StateCount;
        var filter = new HiddenMarkovFilter(model);
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var estimate = new Estimate(filter.Info);
        var rows = c.GetProperty("rows").EnumerateArray().Select(r => r.GetInt32()).ToArray();
        var lpd = Vector(c.GetProperty("log_pred_density"));
        var total = 0.0;
        var next = 0;
        for (var t = 0; t < series.Length; t++)
        {
            filter.Step(state, series.At(t), estimate, default);
            var at = $"{name} t={t + 1}";
            Assert.True((estimate.Flags & (EstimateFlags.Reinitialized | EstimateFlags.ObservationSkipped)) == 0, $"{at}: {estimate.Flags}");
            if (!double.IsNaN(estimate.LogLikelihood))
            {
                total += estimate.LogLikelihood;
            }

            if (next < rows.Length && rows[next] == t)
            {
                Expect.Close(Row(c, "pred", next), estimate.PredictedMean.AsSpan(0, k), Tol, $"{at} predicted", Tol);
                Expect.Close(Row(c, "filt", next), estimate.StateMean.AsSpan(0, k), Tol, $"{at} filtered", Tol);
                Expect.Close(lpd[next], estimate.LogLikelihood, Tol, $"{at} log p(y_t | y_1:t-1)");
                next++;
            }
        }

        Assert.Equal(rows.Length, next);
        Expect.Close(Number(c.GetProperty("loglik")), total, Tol, $"{name} log-likelihood");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void FixedIntervalSmoother_AwkwardCase_MatchesTheLogSpaceReference(string name)
    {
        var c = Case(name);
        var (model, series) = Build(c);
        var k = model.StateCount;
        var (means, _) = FixedIntervalSmoother.Smooth(new HiddenMarkovFilter(model), series);
        var rows = c.GetProperty("rows").EnumerateArray().Select(r => r.GetInt32()).ToArray();
        for (var r = 0; r < rows.Length; r++)
        {
            Expect.Close(Row(c, "smooth", r), means.AsSpan(rows[r] * k, k), Tol, $"{name} t={rows[r] + 1} smoothed", Tol);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Viterbi_AwkwardCase_MatchesTheLogSpaceReference(string name)
    {
        var c = Case(name);
        var (model, series) = Build(c);
        var expected = c.GetProperty("viterbi_path").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var logJoint = Number(c.GetProperty("viterbi_log_joint"));

        var batch = HmmInference.Viterbi(model, series);
        Assert.Equal(expected, batch.Path);
        Expect.Close(logJoint, batch.LogJoint, Tol, $"{name} batch log p(y, s*)");

        // The filter's online recursion and its fixed-interval traceback (the smoothed viterbiState).
        var filter = new HiddenMarkovFilter(model);
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var estimate = new Estimate(filter.Info);
        var records = new List<double[]>();
        for (var t = 0; t < series.Length; t++)
        {
            var record = new double[filter.Info.BackwardRecordLength];
            filter.Step(state, series.At(t), estimate, record);
            records.Add(record);
        }

        Expect.Close(logJoint, HiddenMarkovFilter.BestPathLogJoint(state), Tol, $"{name} online log p(y, s*)");
        var (_, _, extras) = FixedIntervalSmoother.SmoothWithExtras(filter, records);
        Assert.Equal(expected, extras.Select(v => (int)v).ToArray());
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void BaumWelchStep_AwkwardCase_MatchesTheReferenceUpdate(string name)
    {
        var c = Case(name);
        var (model, series) = Build(c);
        var (next, logLikelihood) = BaumWelch.Iterate(model, [series], ["initialProbabilities", "transition", "emission"]);
        var expected = c.GetProperty("em_step");
        Expect.Close(Number(c.GetProperty("loglik")), logLikelihood, Tol, $"{name} E-step log-likelihood");
        Expect.Close(Vector(expected.GetProperty("initialProbabilities")), next.InitialProbabilities, Tol, $"{name} initial probabilities", Tol);
        Expect.Close(Matrix(expected.GetProperty("transition")), next.Transition, Tol, $"{name} transition", Tol);
        var e = expected.GetProperty("emission");
        switch (next.Emission)
        {
            case GaussianEmission g:
                Expect.Close(Vector(e.GetProperty("means")), g.Means, Tol, $"{name} means", Tol);
                Expect.Close(Vector(e.GetProperty("variances")), g.Variances, Tol, $"{name} variances", Tol);
                break;
            case PoissonEmission p:
                Expect.Close(Vector(e.GetProperty("rates")), p.Rates, Tol, $"{name} rates", Tol);
                break;
            case CategoricalEmission b:
                Expect.Close(Matrix(e.GetProperty("probabilities")), b.Probabilities, Tol, $"{name} probabilities", Tol);
                break;
            default:
                Assert.Fail($"{name}: unexpected emission {next.Emission.Type}");
                break;
        }
    }

    private static JsonElement Case(string name) => Cases.Value.Single(c => c.GetProperty("name").GetString() == name);

    private static (HiddenMarkovModel Model, ObservationSeries Series) Build(JsonElement c)
    {
        var pi = Vector(c.GetProperty("initialProbabilities"));
        var a = Matrix(c.GetProperty("transition"));
        var e = c.GetProperty("emission");
        HmmEmission emission = e.GetProperty("type").GetString() switch
        {
            "gaussian" => new GaussianEmission(Vector(e.GetProperty("means")), Vector(e.GetProperty("variances"))),
            "poisson" => new PoissonEmission(Vector(e.GetProperty("rates"))),
            _ => new CategoricalEmission(Matrix(e.GetProperty("probabilities")), e.GetProperty("probabilities")[0].GetArrayLength()),
        };
        return (new HiddenMarkovModel(pi, a, emission), new ObservationSeries(1, Vector(c.GetProperty("y"))));
    }

    private static double[] Row(JsonElement c, string field, int row) => Vector(c.GetProperty(field)[row]);

    private static double[] Vector(JsonElement e) => [.. e.EnumerateArray().Select(Number)];

    private static double[] Matrix(JsonElement e) => [.. e.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(Number))];

    private static double Number(JsonElement e) =>
        e.ValueKind == JsonValueKind.String ? double.Parse(e.GetString()!, CultureInfo.InvariantCulture) : e.GetDouble();
}
