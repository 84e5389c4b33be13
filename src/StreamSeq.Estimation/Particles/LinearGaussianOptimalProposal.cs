using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Particles;

/// <summary>
/// The locally optimal proposal of a linear Gaussian model, p(h_t | h_{t−1}, y_t) = N(μ + K (y_o − H_o μ − d_o), Σ)
/// with μ = F h_{t−1} + c, S = H_o Q H_o' + R_oo, K = Q H_o' S⁻¹ and Σ = Q − K H_o Q (o = observed rows).
/// </summary>
internal sealed class LinearGaussianOptimalProposal : IParticleProposal
{
    private const double Log2Pi = 1.8378770664093453;
    private readonly LinearGaussianParticleModel model;
    private readonly int n;

    public LinearGaussianOptimalProposal(LinearGaussianParticleModel model)
    {
        this.model = model;
        n = model.StateDimension;
    }

    public void Sample(ReadOnlySpan<double> previous, Span<double> next, int count, ReadOnlySpan<double> observation, double timeGap, long step, ref ParticleRandom random)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var mean = arena.Take(n * count);
        var covariance = Prepare(previous, count, observation, timeGap, mean, out _);
        var l = arena.Take(n * n);
        LinearGaussianParticleModel.Factor(covariance, n, l);
        Span<double> z = stackalloc double[n];
        for (var i = 0; i < count; i++)
        {
            for (var j = 0; j < n; j++)
            {
                z[j] = random.NextGaussian();
            }

            for (var r = 0; r < n; r++)
            {
                var s = mean[(r * count) + i];
                for (var k = 0; k <= r; k++)
                {
                    s += l[(r * n) + k] * z[k];
                }

                next[(r * count) + i] = s;
            }
        }

        arena.Release(mark);
    }

    public void LogDensity(ReadOnlySpan<double> previous, ReadOnlySpan<double> next, int count, ReadOnlySpan<double> observation, double timeGap, long step, Span<double> logDensity)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var mean = arena.Take(n * count);
        var covariance = Prepare(previous, count, observation, timeGap, mean, out _);
        GaussianLogDensity(next, mean, covariance, count, logDensity);
        arena.Release(mark);
    }

    public void TransitionLogDensity(ReadOnlySpan<double> previous, ReadOnlySpan<double> next, int count, double timeGap, long step, Span<double> logDensity)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        model.Transition(timeGap, out var f, out _, out var c, out var q);
        var mean = arena.Take(n * count);
        model.Propagate(f, c, previous, mean, count);
        GaussianLogDensity(next, mean, q, count, logDensity);
        arena.Release(mark);
    }

    /// <summary>Writes the proposal means (n blocks) and returns Σ (arena scratch).</summary>
    private Span<double> Prepare(ReadOnlySpan<double> previous, int count, ReadOnlySpan<double> y, double timeGap, Span<double> mean, out int observedCount)
    {
        var arena = ScratchArena.Current;
        var m = model.ObservationDimension;
        model.Transition(timeGap, out var f, out _, out var c, out var q);
        model.Propagate(f, c, previous, mean, count);
        Span<int> observed = stackalloc int[m];
        var k = model.Observed(y, observed);
        observedCount = k;
        var sigma = arena.Take(n * n);
        q.CopyTo(sigma);
        if (k == 0)
        {
            return sigma;
        }

        observed = observed[..k];
        var h = model.Linear.Observation;
        var r = model.Linear.ObservationNoise;
        var ho = arena.Take(k * n);
        for (var a = 0; a < k; a++)
        {
            h.Slice(observed[a] * n, n).CopyTo(ho.Slice(a * n, n));
        }

        // HQ = H_o Q (k×n); S = HQ H_o' + R_oo; Kt = S⁻¹ HQ (k×n) = K'.
        var hq = arena.Take(k * n);
        Dense.Multiply(ho, k, n, q, n, hq);
        var s = arena.Take(k * k);
        Dense.MultiplyTransposed(hq, k, n, ho, k, s);
        for (var a = 0; a < k; a++)
        {
            for (var b = 0; b < k; b++)
            {
                s[(a * k) + b] += r[(observed[a] * m) + observed[b]];
            }
        }

        Dense.Cholesky(s, k);
        var kt = arena.Take(k * n);
        hq.CopyTo(kt);
        Dense.CholeskySolve(s, k, kt, n);

        // Σ = Q − HQ' Kt.
        var correction = arena.Take(n * n);
        Dense.TransposedMultiply(hq, k, n, kt, n, correction);
        for (var i = 0; i < n * n; i++)
        {
            sigma[i] -= correction[i];
        }

        Dense.Symmetrize(sigma, n);

        // mean += K e with e = y_o − H_o μ − d_o.
        var residual = arena.Take(k * count);
        model.Residuals(mean, count, y, observed, residual);
        for (var rIndex = 0; rIndex < n; rIndex++)
        {
            var target = mean.Slice(rIndex * count, count);
            for (var a = 0; a < k; a++)
            {
                var gain = kt[(a * n) + rIndex];
                var e = residual.Slice(a * count, count);
                for (var i = 0; i < count; i++)
                {
                    target[i] += gain * e[i];
                }
            }
        }

        return sigma;
    }

    private void GaussianLogDensity(ReadOnlySpan<double> x, ReadOnlySpan<double> mean, ReadOnlySpan<double> covariance, int count, Span<double> logDensity)
    {
        var arena = ScratchArena.Current;
        var l = arena.Take(n * n);
        covariance.CopyTo(l);
        if (!Dense.Cholesky(l, n))
        {
            logDensity[..count].Fill(double.NaN);
            return;
        }

        var diff = arena.Take(n * count);
        for (var i = 0; i < n * count; i++)
        {
            diff[i] = x[i] - mean[i];
        }

        LinearGaussianParticleModel.WhitenedNormSquared(l, n, diff, count, logDensity);
        var constant = -0.5 * ((n * Log2Pi) + Dense.LogDeterminantFromCholesky(l, n));
        for (var i = 0; i < count; i++)
        {
            logDensity[i] = constant - (0.5 * logDensity[i]);
        }
    }
}
