using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Estimation.Tests.Recurrent;

/// <summary>
/// Straightforward double-precision recurrences written from the cell equations with plain loops on PyTorch-layout
/// weights. They share no numerical code with the engines under test.
/// </summary>
internal static class ScalarReference
{
    public static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));

    /// <summary>One step of a (peephole) LSTM stack; h[l], c[l] are updated in place.</summary>
    public static void LstmStep(StateDictionary w, int inputSize, int hidden, int layers, bool peephole, double[] x, double[][] h, double[][] c)
    {
        var input = x;
        for (var l = 0; l < layers; l++)
        {
            var width = l == 0 ? inputSize : hidden;
            var wih = w[$"weight_ih_l{l}"].ToArray<double>();
            var whh = w[$"weight_hh_l{l}"].ToArray<double>();
            var bih = w[$"bias_ih_l{l}"].ToArray<double>();
            var bhh = w[$"bias_hh_l{l}"].ToArray<double>();
            var pi = peephole ? w[$"peephole_i_l{l}"].ToArray<double>() : new double[hidden];
            var pf = peephole ? w[$"peephole_f_l{l}"].ToArray<double>() : new double[hidden];
            var po = peephole ? w[$"peephole_o_l{l}"].ToArray<double>() : new double[hidden];
            var pre = new double[4 * hidden];
            for (var r = 0; r < 4 * hidden; r++)
            {
                var s = bih[r] + bhh[r];
                for (var k = 0; k < width; k++)
                {
                    s += wih[(r * width) + k] * input[k];
                }

                for (var k = 0; k < hidden; k++)
                {
                    s += whh[(r * hidden) + k] * h[l][k];
                }

                pre[r] = s;
            }

            var newH = new double[hidden];
            for (var u = 0; u < hidden; u++)
            {
                var cOld = c[l][u];
                var i = Sigmoid(pre[u] + (pi[u] * cOld));
                var f = Sigmoid(pre[hidden + u] + (pf[u] * cOld));
                var g = Math.Tanh(pre[(2 * hidden) + u]);
                var cNew = (f * cOld) + (i * g);
                var o = Sigmoid(pre[(3 * hidden) + u] + (po[u] * cNew));
                c[l][u] = cNew;
                newH[u] = o * Math.Tanh(cNew);
            }

            h[l] = newH;
            input = newH;
        }
    }

    /// <summary>One step of an Elman stack; h[l] is replaced.</summary>
    public static void ElmanStep(StateDictionary w, int inputSize, int hidden, int layers, bool relu, double[] x, double[][] h)
    {
        var input = x;
        for (var l = 0; l < layers; l++)
        {
            var width = l == 0 ? inputSize : hidden;
            var wih = w[$"weight_ih_l{l}"].ToArray<double>();
            var whh = w[$"weight_hh_l{l}"].ToArray<double>();
            var bih = w[$"bias_ih_l{l}"].ToArray<double>();
            var bhh = w[$"bias_hh_l{l}"].ToArray<double>();
            var newH = new double[hidden];
            for (var r = 0; r < hidden; r++)
            {
                var s = bih[r] + bhh[r];
                for (var k = 0; k < width; k++)
                {
                    s += wih[(r * width) + k] * input[k];
                }

                for (var k = 0; k < hidden; k++)
                {
                    s += whh[(r * hidden) + k] * h[l][k];
                }

                newH[r] = relu ? Math.Max(0.0, s) : Math.Tanh(s);
            }

            h[l] = newH;
            input = newH;
        }
    }
}
