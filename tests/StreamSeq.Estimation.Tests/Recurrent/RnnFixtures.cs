using System.Globalization;
using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Estimation.Tests.Recurrent;

/// <summary>Loads the PyTorch oracle files copied under Fixtures/rnn.</summary>
internal static class RnnFixtures
{
    public const int Streams = 4;
    public const int Steps = 50;
    public const int InputSize = 3;
    public const int HiddenSize = 8;
    public const int OutputSize = 2;

    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "rnn", file);

    public static StateDictionary Weights(string model) => TorchJsonFormat.ReadFile(PathOf($"{model}_weights.json"));

    public static int Layers(string model) => model == "lstm" ? 2 : 1;

    /// <summary>inputs[stream][t] = x (3 values).</summary>
    public static double[][][] Inputs()
    {
        var result = new double[Streams][][];
        for (var s = 0; s < Streams; s++)
        {
            result[s] = new double[Steps][];
        }

        foreach (var row in ReadCsv("inputs.csv"))
        {
            result[(int)row["stream"]][(int)row["t"]] = [row["x_0"], row["x_1"], row["x_2"]];
        }

        return result;
    }

    /// <summary>One row per (stream, layer): h (and c) values, or null for a zero initial state.</summary>
    public static Dictionary<(int Stream, int Layer), (double[] H, double[]? C)> States(string file)
    {
        var result = new Dictionary<(int, int), (double[], double[]?)>();
        foreach (var row in ReadCsv(file))
        {
            var h = Enumerable.Range(0, HiddenSize).Select(k => row[$"h_{k}"]).ToArray();
            var c = row.ContainsKey("c_0") ? Enumerable.Range(0, HiddenSize).Select(k => row[$"c_{k}"]).ToArray() : null;
            result[((int)row["stream"], (int)row["layer"])] = (h, c);
        }

        return result;
    }

    /// <summary>expected[stream][t] = (top-layer h, y).</summary>
    public static (double[] H, double[] Y)[][] Outputs(string file)
    {
        var result = new (double[], double[])[Streams][];
        for (var s = 0; s < Streams; s++)
        {
            result[s] = new (double[], double[])[Steps];
        }

        foreach (var row in ReadCsv(file))
        {
            var h = Enumerable.Range(0, HiddenSize).Select(k => row[$"h_{k}"]).ToArray();
            var y = Enumerable.Range(0, OutputSize).Select(k => row[$"y_{k}"]).ToArray();
            result[(int)row["stream"]][(int)row["t"]] = (h, y);
        }

        return result;
    }

    /// <summary>
    /// Writes into <paramref name="folder"/> a spec of kind <paramref name="kind"/> for the oracle net
    /// <paramref name="cell"/> read as a net with one control (x_t = [y_{t−1}, u_t]): stream <paramref name="stream"/>'s
    /// non-zero initial state and first reading, a point head of variance <paramref name="headVariance"/>, and the further
    /// spec fields <paramref name="fields"/> (noise, particles). Returns its path.
    /// </summary>
    public static string WriteControlledSpec(string folder, string cell, string kind, int stream, double headVariance, string? fields)
    {
        var x = Inputs()[stream];
        var initial = States($"{cell}_initial_state_nonzero.csv");
        var layers = Layers(cell);
        var rows = Enumerable.Range(0, layers).Select(l => initial[(stream, l)]).ToArray();
        var weights = PathOf($"{cell}_weights.json").Replace("\\", "/", StringComparison.Ordinal);
        var cellState = cell == "lstm" ? $",\"initialCell\":{Matrix(rows.Select(r => r.C!))}" : string.Empty;
        var more = fields is null ? string.Empty : $",{fields}";
        var path = Path.Combine(folder, $"{cell}-{kind}.json");
        File.WriteAllText(path, $$"""{"name":"oracle","kind":"{{kind}}","cell":"{{cell}}","inputSize":3,"hiddenSize":8,"layers":{{layers}},"controlDimension":1,"weights":"{{weights}}","head":{"type":"point","variance":{{Number(headVariance)}}},"initialObservation":[{{Number(x[0][0])}},{{Number(x[0][1])}}],"initialHidden":{{Matrix(rows.Select(r => r.H))}}{{cellState}}{{more}}}""");
        return path;
    }

    private static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Matrix(IEnumerable<double[]> rows) => "[" + string.Join(",", rows.Select(r => "[" + string.Join(",", r.Select(Number)) + "]")) + "]";

    /// <summary>Fills one stream's state span from an initial-state file (layout h_l then c_l per layer).</summary>
    public static void FillState<T>(RecurrentNetwork<T> network, string? initialStateFile, int stream, Span<T> state)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        state.Clear();
        if (initialStateFile is null)
        {
            return;
        }

        var states = States(initialStateFile);
        for (var layer = 0; layer < network.LayerCount; layer++)
        {
            var (h, c) = states[(stream, layer)];
            var ho = network.GetHiddenOffset(layer);
            for (var k = 0; k < HiddenSize; k++)
            {
                state[ho + k] = T.CreateChecked(h[k]);
                if (c is not null)
                {
                    state[network.GetCellOffset(layer) + k] = T.CreateChecked(c[k]);
                }
            }
        }
    }

    public static List<Dictionary<string, double>> ReadCsv(string file)
    {
        var lines = File.ReadAllLines(PathOf(file));
        var header = lines[0].Split(',');
        var rows = new List<Dictionary<string, double>>();
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var cells = line.Split(',');
            var row = new Dictionary<string, double>(StringComparer.Ordinal);
            for (var k = 0; k < header.Length; k++)
            {
                row[header[k]] = double.Parse(cells[k], CultureInfo.InvariantCulture);
            }

            rows.Add(row);
        }

        return rows;
    }
}
