using System.Globalization;

namespace StreamSeq.Estimation.Onnx.Tests;

/// <summary>Reads the PyTorch oracle CSVs (linked from the managed engine's test fixtures).</summary>
internal static class OracleFiles
{
    public const int Streams = 4;
    public const int Steps = 50;
    public const int Hidden = 8;

    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "rnn", file);

    public static List<Dictionary<string, double>> ReadCsv(string file)
    {
        var lines = File.ReadAllLines(PathOf(file));
        var header = lines[0].Split(',');
        return lines.Skip(1).Where(l => l.Length > 0).Select(line =>
        {
            var cells = line.Split(',');
            return header.Select((h, k) => (h, v: double.Parse(cells[k], CultureInfo.InvariantCulture)))
                .ToDictionary(p => p.h, p => p.v, StringComparer.Ordinal);
        }).ToList();
    }

    public static float[][][] Inputs()
    {
        var result = Enumerable.Range(0, Streams).Select(_ => new float[Steps][]).ToArray();
        foreach (var r in ReadCsv("inputs.csv"))
        {
            result[(int)r["stream"]][(int)r["t"]] = [(float)r["x_0"], (float)r["x_1"], (float)r["x_2"]];
        }

        return result;
    }

    public static double[] Row(Dictionary<string, double> row, string prefix, int count) =>
        Enumerable.Range(0, count).Select(k => row[$"{prefix}_{k}"]).ToArray();

    /// <summary>Fills stream states from the non-zero initial-state file (or zeros).</summary>
    public static void FillStates(OnnxRecurrentModel model, string? file, Span<float> states)
    {
        states.Clear();
        if (file is null)
        {
            return;
        }

        foreach (var r in ReadCsv(file))
        {
            var s = (int)r["stream"];
            var l = (int)r["layer"];
            var baseOffset = s * model.StateLength;
            var h = Row(r, "h", Hidden);
            for (var k = 0; k < Hidden; k++)
            {
                states[baseOffset + model.GetHiddenOffset(l) + k] = (float)h[k];
            }

            if (model.HasCellState)
            {
                var c = Row(r, "c", Hidden);
                for (var k = 0; k < Hidden; k++)
                {
                    states[baseOffset + model.GetCellOffset(l) + k] = (float)c[k];
                }
            }
        }
    }
}
