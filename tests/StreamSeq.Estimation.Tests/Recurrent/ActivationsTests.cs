using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Estimation.Tests.Recurrent;

/// <summary>The vectorised sigmoid and tanh against the scalar Math functions.</summary>
public sealed class ActivationsTests
{
    private static double[] Grid()
    {
        var values = new List<double> { 0, -0.0, 1e-300, -1e-20, 1e-9, -3e-5, 0.3465, -0.3467, 0.6931, 19.06, -19.06, 36.7, -36.7, 300, -300, 707.9, -707.9, 1000, -1000 };
        for (var x = -40.0; x <= 40.0; x += 0.0137)
        {
            values.Add(x);
        }

        return values.ToArray();
    }

    [Fact]
    public void SigmoidAndTanh_Double_WithinFewUlpsOfMath()
    {
        var x = Grid();
        var s = (double[])x.Clone();
        var t = (double[])x.Clone();
        Activations.Sigmoid<double>(s);
        Activations.Tanh<double>(t);
        for (var k = 0; k < x.Length; k++)
        {
            var es = 1.0 / (1.0 + Math.Exp(-x[k]));
            var et = Math.Tanh(x[k]);
            Assert.True(Math.Abs(s[k] - es) <= 4e-16 * Math.Max(es, 1e-300) + 1e-300, $"sigmoid({x[k]}) = {s[k]} vs {es}");
            Assert.True(Math.Abs(t[k] - et) <= 4e-16 * Math.Abs(et), $"tanh({x[k]}) = {t[k]} vs {et}");
        }
    }

    [Fact]
    public void SigmoidAndTanh_Single_WithinFloatAccuracy()
    {
        var x = Grid().Where(v => Math.Abs(v) < 80).Select(v => (float)v).ToArray();
        var s = (float[])x.Clone();
        var t = (float[])x.Clone();
        Activations.Sigmoid<float>(s);
        Activations.Tanh<float>(t);
        for (var k = 0; k < x.Length; k++)
        {
            var es = 1.0 / (1.0 + Math.Exp(-(double)x[k]));
            var et = Math.Tanh(x[k]);
            Assert.True(Math.Abs(s[k] - es) <= 4e-7 * es, $"sigmoid({x[k]}) = {s[k]} vs {es}");
            Assert.True(Math.Abs(t[k] - et) <= 4e-7 * Math.Abs(et), $"tanh({x[k]}) = {t[k]} vs {et}");
        }
    }

    [Fact]
    public void SigmoidAndTanh_SpecialValues_BehaveAsLimits()
    {
        double[] s = [double.NaN, double.PositiveInfinity, double.NegativeInfinity];
        double[] t = [double.NaN, double.PositiveInfinity, double.NegativeInfinity];
        Activations.Sigmoid<double>(s);
        Activations.Tanh<double>(t);
        Assert.True(double.IsNaN(s[0]));
        Assert.Equal(1.0, s[1]);
        Assert.True(s[2] >= 0 && s[2] < 1e-300);
        Assert.True(double.IsNaN(t[0]));
        Assert.Equal(1.0, t[1]);
        Assert.Equal(-1.0, t[2]);
    }

    [Fact]
    public void Sigmoid_ValueDoesNotDependOnPositionOrLength()
    {
        var x = Grid().Take(37).ToArray();
        var whole = (double[])x.Clone();
        Activations.Sigmoid<double>(whole);
        for (var k = 0; k < x.Length; k++)
        {
            var one = new[] { x[k] };
            Activations.Sigmoid<double>(one);
            Assert.Equal(whole[k], one[0]);
        }
    }
}
