using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;

namespace StreamSeq.Estimation.Tests.Support;

/// <summary>The 3-state Gaussian HMM of oracles/hmm.</summary>
internal static class HmmOracle
{
    public static readonly double[] Pi = [0.5, 0.3, 0.2];
    public static readonly double[] A = [0.90, 0.07, 0.03, 0.05, 0.90, 0.05, 0.04, 0.06, 0.90];
    public static readonly double[] Mu = [-2, 0, 3];
    public static readonly double[] Var = [1.0, 0.5, 2.0];

    public const string Spec = """
        {"name":"regimes","kind":"hmm","initialProbabilities":[0.5,0.3,0.2],
         "transition":[[0.90,0.07,0.03],[0.05,0.90,0.05],[0.04,0.06,0.90]],
         "emission":{"type":"gaussian","means":[-2,0,3],"variances":[1.0,0.5,2.0]}}
        """;

    public static HiddenMarkovModel Model() => new(Pi, A, new GaussianEmission(Mu, Var));

    public static ObservationSeries Data(int length = int.MaxValue)
    {
        var y = OracleCsv.Load("hmm", "hmm_data.csv")["y"];
        return new ObservationSeries(1, y.Take(length).ToArray());
    }

    public static JsonElement Expected()
    {
        var text = File.ReadAllText(System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", "hmm", "hmm_expected.json"));
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static double[] Vector(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    public static double[] Matrix(JsonElement e) => e.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();

    public static int[] Path(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();
}
