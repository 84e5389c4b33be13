using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Changepoint;

namespace StreamSeq.Estimation.Tests.Support;

/// <summary>The piecewise-constant series and known-variance model of oracles/bocpd.</summary>
internal static class BocpdOracle
{
    public const double Hazard = 0.01;
    public const double LogEvidence = -734.9753259988302;

    public static ObservationSeries Data(int length = int.MaxValue) =>
        new(1, OracleCsv.Load("bocpd", "bocpd_data.csv")["x"].Take(length).ToArray());

    public static BayesianChangepointDetector KnownVariance(RunLengthRecursion recursion, int maxRunLength = 1000, double pruneBelow = 0.0) =>
        new(new ConstantHazard(Hazard), new NormalKnownVarianceModel([1.0], [0.0], [9.0]), maxRunLength, pruneBelow, recursion);

    /// <summary>The long-format posterior: for each t (1-based), run length → probability.</summary>
    public static Dictionary<int, Dictionary<int, (double Prob, double LogProb)>> Posterior(string variant)
    {
        var csv = OracleCsv.Load("bocpd", $"bocpd_knownvar_{variant}_runlength_posterior_long.csv");
        var result = new Dictionary<int, Dictionary<int, (double, double)>>();
        for (var i = 0; i < csv.RowCount; i++)
        {
            var t = (int)csv["t"][i];
            if (!result.TryGetValue(t, out var row))
            {
                result[t] = row = [];
            }

            row[(int)csv["r"][i]] = (csv["prob"][i], csv["log_prob"][i]);
        }

        return result;
    }
}
