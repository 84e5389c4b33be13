using StreamSeq.Estimation.Onnx;
using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Benchmarks.Recurrent;

/// <summary>Locates the oracle fixtures and builds shared benchmark inputs.</summary>
internal static class RecurrentBenchmarkData
{
    public static string Fixture(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "StreamSeq.Estimation.Tests", "Fixtures", "rnn", file);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"Cannot find fixture '{file}' above {AppContext.BaseDirectory}.");
    }

    /// <summary>A file of the repository's examples folder.</summary>
    public static string Example(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "examples", file);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"Cannot find example '{file}' above {AppContext.BaseDirectory}.");
    }

    /// <summary>PyTorch-style initialisation U(−1/√H, 1/√H), stored as F32.</summary>
    public static StateDictionary RandomLstm(int seed, int inputSize, int hidden)
    {
        var random = new Random(seed);
        var bound = 1.0 / Math.Sqrt(hidden);
        NamedTensor T(string name, params int[] shape)
        {
            var values = new float[shape.Aggregate(1, (a, b) => a * b)];
            for (var k = 0; k < values.Length; k++)
            {
                values[k] = (float)(bound * ((2 * random.NextDouble()) - 1));
            }

            return NamedTensor.Create<float>(name, shape, values);
        }

        return new StateDictionary([
            T("weight_ih_l0", 4 * hidden, inputSize),
            T("weight_hh_l0", 4 * hidden, hidden),
            T("bias_ih_l0", 4 * hidden),
            T("bias_hh_l0", 4 * hidden),
        ]);
    }

    public static float[] RandomVector(int seed, int n)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((2 * random.NextDouble()) - 1)).ToArray();
    }

    /// <summary>Checks that ONNX Runtime and the managed engine agree on a few batched steps, so the timings compare
    /// the same computation.</summary>
    public static void CheckAgreement(RecurrentNetwork<float> managed, OnnxRecurrentModel onnx, int batch)
    {
        var x = RandomVector(1, batch * managed.InputSize);
        var sm = RandomVector(2, batch * managed.StateLength);
        var so = (float[])sm.Clone();
        var y = new float[batch * onnx.OutputSize];
        for (var t = 0; t < 3; t++)
        {
            managed.StepBatch(batch, x, sm);
            onnx.StepBatch(batch, x, so, y);
        }

        var error = sm.Zip(so, (a, b) => Math.Abs(a - b)).Max();
        if (!(error < 1e-4))
        {
            throw new InvalidOperationException($"ONNX Runtime and the managed engine disagree by {error}.");
        }
    }
}
