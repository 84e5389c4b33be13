namespace StreamSeq.Estimation.Recurrent.Training;

/// <summary>Adam (Kingma and Ba) with bias correction: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
/// θ ← θ − α m̂/(√v̂ + ε) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ); β₁ = 0.9, β₂ = 0.999, ε = 1e−8.</summary>
internal sealed class AdamOptimizer
{
    private const double Beta1 = 0.9;
    private const double Beta2 = 0.999;
    private const double Epsilon = 1e-8;
    private readonly double[] first;
    private readonly double[] second;
    private readonly double learningRate;
    private long steps;

    public AdamOptimizer(int count, double learningRate)
    {
        first = new double[count];
        second = new double[count];
        this.learningRate = learningRate;
    }

    public void Update(Span<double> theta, ReadOnlySpan<double> gradient)
    {
        steps++;
        var correction1 = 1.0 - Math.Pow(Beta1, steps);
        var correction2 = 1.0 - Math.Pow(Beta2, steps);
        for (var i = 0; i < theta.Length; i++)
        {
            var g = gradient[i];
            first[i] = (Beta1 * first[i]) + ((1.0 - Beta1) * g);
            second[i] = (Beta2 * second[i]) + ((1.0 - Beta2) * g * g);
            theta[i] -= learningRate * (first[i] / correction1) / (Math.Sqrt(second[i] / correction2) + Epsilon);
        }
    }
}
