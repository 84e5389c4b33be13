using System.Runtime.CompilerServices;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian;

/// <summary>
/// The Kalman filter for a <see cref="LinearGaussianModel"/>, with the Joseph-form covariance update, missing
/// components, control inputs, exact diffuse initialisation and the Rauch–Tung–Striebel backward step.
/// </summary>
/// <remarks>
/// <para>Predict: a⁻ = F a + c + B u, P⁻ = F P F' + Q. Update over the observed rows o of y:
/// v = y_o − (H a⁻ + d)_o, S = H_o P⁻ H_o' + R_oo, K = P⁻ H_o' S⁻¹, a = a⁻ + K v,
/// P = (I − K H_o) P⁻ (I − K H_o)' + K R_oo K' (Joseph form, symmetrised), and
/// log p(y_t | y_{1:t-1}) = −½ (k log 2π + log|S| + v' S⁻¹ v) with k observed rows.</para>
/// <para>Exact diffuse initialisation (Durbin &amp; Koopman, ch. 5) carries P = P_* + κ P_∞ with κ → ∞ and
/// processes the observed rows one at a time (after decorrelating R) until P_∞ vanishes. During that period the
/// log-likelihood is the diffuse one (D&amp;K eq. 7.4) and reported covariances are ±∞ where P_∞ is non-zero.</para>
/// <para>Guard rails: a non-finite mean or covariance re-initialises the stream from the prior
/// (<see cref="EstimateFlags.Reinitialized"/>); a covariance that fails the cheap PSD checks is repaired by clipping
/// negative eigenvalues (<see cref="EstimateFlags.Repaired"/>); an innovation covariance that is not positive
/// definite skips the update (<see cref="EstimateFlags.ObservationSkipped"/>).</para>
/// </remarks>
public sealed class KalmanFilter : IEstimator, IBackwardStep
{
    /// <summary>κ used in smoothing records while part of the prior is still diffuse.</summary>
    internal const double DiffuseRecordScale = 1e10;

    private const double Log2Pi = 1.8378770664093453;
    private const int StepsSlot = 0;
    private const int DiffuseSlot = 1;
    private const int MeanSlot = 2;

    private readonly LinearGaussianModel model;
    private readonly int n;
    private readonly int m;
    private readonly int covSlot;
    private readonly int infSlot;
    private readonly double[]? fixedTransition;
    private readonly double[]? fixedNoise;
    private readonly double[]? fixedOffset;
    private readonly bool scalar;
    private readonly bool twoByOne;
    private readonly bool hasControl;
    private readonly bool diagonalObservationNoise;

    /// <summary>Creates the filter.</summary>
    public KalmanFilter(LinearGaussianModel model, string family = "kalman")
    {
        ArgumentNullException.ThrowIfNull(model);
        this.model = model;
        n = model.StateDimension;
        m = model.ObservationDimension;
        covSlot = MeanSlot + n;
        infSlot = covSlot + (n * n);
        hasControl = model.ControlDimension > 0;
        if (model.Dynamics.IsTimeInvariant)
        {
            fixedTransition = new double[n * n];
            fixedNoise = new double[n * n];
            fixedOffset = new double[n];
            model.Dynamics.Discretize(1.0, fixedTransition, fixedNoise, fixedOffset);
        }

        scalar = n == 1 && m == 1 && !hasControl;
        twoByOne = n == 2 && m == 1 && !hasControl;
        diagonalObservationNoise = true;
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < m; j++)
            {
                if (i != j && model.ObservationNoise[(i * m) + j] != 0.0)
                {
                    diagonalObservationNoise = false;
                }
            }
        }

        Info = new EstimatorInfo
        {
            Family = family,
            StateDimension = n,
            ObservationDimension = m,
            ControlDimension = model.ControlDimension,
            StateLength = infSlot + (model.IsDiffuse ? n * n : 0),
            BackwardRecordLength = (2 * n) + (3 * n * n),
            SmoothingMessageLength = n + (n * n),
            UsesTimeGap = !model.Dynamics.IsTimeInvariant,
        };
    }

    /// <summary>The model parameters.</summary>
    public LinearGaussianModel Model => model;

    /// <summary>Offset of the filtered mean in the state buffer (for filters built from Kalman steps, such as IMM).</summary>
    internal static int MeanOffset => MeanSlot;

    /// <summary>Offset of the filtered covariance in the state buffer.</summary>
    internal int CovarianceOffset => covSlot;

    /// <summary>True while part of the stream's prior is still diffuse (exact diffuse initialisation not yet over).</summary>
    internal static bool IsStillDiffuse(ReadOnlySpan<double> state) => state[DiffuseSlot] != 0.0;

    /// <summary>Offset of the step counter; a non-zero count makes the next step predict before updating.</summary>
    internal static int StepCountOffset => StepsSlot;

    /// <inheritdoc />
    public EstimatorInfo Info { get; }

    /// <inheritdoc />
    public void Initialize(Span<double> state, ulong seed)
    {
        state[StepsSlot] = 0.0;
        state[DiffuseSlot] = model.IsDiffuse ? 1.0 : 0.0;
        model.InitialMean.CopyTo(state.Slice(MeanSlot, n));
        model.InitialCovariance.CopyTo(state.Slice(covSlot, n * n));
        if (model.IsDiffuse)
        {
            model.InitialDiffuse.CopyTo(state.Slice(infSlot, n * n));
        }
    }

    /// <inheritdoc />
    public void Step(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        estimate.Reset();
        if (scalar && state[DiffuseSlot] == 0.0 && backwardRecord.IsEmpty)
        {
            ScalarStep(state, observation, estimate);
        }
        else if (twoByOne && state[DiffuseSlot] == 0.0 && backwardRecord.IsEmpty)
        {
            TwoStateStep(state, observation, estimate);
        }
        else
        {
            GeneralStep(state, observation, estimate, backwardRecord);
        }

        if (estimate.Flags != EstimateFlags.None)
        {
            Guard(state, estimate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ScalarStep(Span<double> state, in Observation observation, Estimate estimate)
    {
        var a = state[MeanSlot];
        var p = state[MeanSlot + 1];
        if (state[StepsSlot] != 0.0)
        {
            double f, q, c;
            if (fixedTransition is not null)
            {
                f = fixedTransition[0];
                q = fixedNoise![0];
                c = fixedOffset![0];
            }
            else
            {
                Span<double> fqc = stackalloc double[3];
                model.Dynamics.Discretize(observation.TimeGap, fqc[..1], fqc.Slice(1, 1), fqc.Slice(2, 1));
                f = fqc[0];
                q = fqc[1];
                c = fqc[2];
            }

            a = (f * a) + c;
            p = (f * f * p) + q;
        }

        var h = model.Observation[0];
        var r = model.ObservationNoise[0];
        var predictedY = (h * a) + model.ObservationOffset[0];
        var s = (h * h * p) + r;
        estimate.PredictedMean[0] = a;
        estimate.PredictedCovariance[0] = p;
        estimate.ObservationMean[0] = predictedY;
        estimate.ObservationCovariance[0] = s;
        var y = observation.Values[0];
        if (double.IsFinite(y))
        {
            if (!(s > 0.0))
            {
                estimate.Flags |= EstimateFlags.ObservationSkipped;
            }
            else
            {
                var v = y - predictedY;
                var k = p * h / s;
                var oneMinusKh = 1.0 - (k * h);
                a += k * v;
                p = (oneMinusKh * oneMinusKh * p) + (k * k * r);
                var nis = v * v / s;
                estimate.NormalizedInnovationSquared = nis;
                estimate.LogLikelihood = -0.5 * (Log2Pi + Math.Log(s) + nis);
                estimate.ObservedCount = 1;
            }
        }

        estimate.StateMean[0] = a;
        estimate.StateCovariance[0] = p;
        state[MeanSlot] = a;
        state[MeanSlot + 1] = p;
        state[StepsSlot] += 1.0;
        if (!double.IsFinite(a) || !(p >= 0.0) || double.IsInfinity(p))
        {
            estimate.Flags |= EstimateFlags.Reinitialized;
        }
    }

    /// <summary>The n = 2, m = 1 step (local linear trend and friends) in scalars: the same algebra as
    /// <see cref="GeneralStep"/>, unrolled.</summary>
    private void TwoStateStep(Span<double> state, in Observation observation, Estimate estimate)
    {
        double a0 = state[MeanSlot], a1 = state[MeanSlot + 1];
        double p00 = state[MeanSlot + 2], p01 = state[MeanSlot + 3], p11 = state[MeanSlot + 5];
        if (state[StepsSlot] != 0.0)
        {
            Span<double> fqc = stackalloc double[10];
            if (fixedTransition is not null)
            {
                fixedTransition.CopyTo(fqc);
                fixedNoise.CopyTo(fqc[4..]);
                fixedOffset.CopyTo(fqc[8..]);
            }
            else
            {
                model.Dynamics.Discretize(observation.TimeGap, fqc[..4], fqc.Slice(4, 4), fqc.Slice(8, 2));
            }

            double f00 = fqc[0], f01 = fqc[1], f10 = fqc[2], f11 = fqc[3];
            var na0 = (f00 * a0) + (f01 * a1) + fqc[8];
            var na1 = (f10 * a0) + (f11 * a1) + fqc[9];
            a0 = na0;
            a1 = na1;

            // F P F' + Q with P symmetric.
            var fp00 = (f00 * p00) + (f01 * p01);
            var fp01 = (f00 * p01) + (f01 * p11);
            var fp10 = (f10 * p00) + (f11 * p01);
            var fp11 = (f10 * p01) + (f11 * p11);
            var q01 = 0.5 * (fqc[5] + fqc[6]);
            p00 = (fp00 * f00) + (fp01 * f01) + fqc[4];
            p01 = (fp00 * f10) + (fp01 * f11) + q01;
            p11 = (fp10 * f10) + (fp11 * f11) + fqc[7];
        }

        var h = model.Observation;
        double h0 = h[0], h1 = h[1];
        var r = model.ObservationNoise[0];
        var ph0 = (p00 * h0) + (p01 * h1);
        var ph1 = (p01 * h0) + (p11 * h1);
        var s = (h0 * ph0) + (h1 * ph1) + r;
        var predictedY = (h0 * a0) + (h1 * a1) + model.ObservationOffset[0];
        var pm = estimate.PredictedMean;
        var pc = estimate.PredictedCovariance;
        pm[0] = a0;
        pm[1] = a1;
        pc[0] = p00;
        pc[1] = p01;
        pc[2] = p01;
        pc[3] = p11;
        estimate.ObservationMean[0] = predictedY;
        estimate.ObservationCovariance[0] = s;
        var y = observation.Values[0];
        if (double.IsFinite(y))
        {
            if (!(s > 0.0))
            {
                estimate.Flags |= EstimateFlags.ObservationSkipped;
            }
            else
            {
                var v = y - predictedY;
                var inv = 1.0 / s;
                var k0 = ph0 * inv;
                var k1 = ph1 * inv;
                a0 += k0 * v;
                a1 += k1 * v;

                // Joseph form: A P A' + K r K' with A = I - K h.
                double a00 = 1.0 - (k0 * h0), a01 = -k0 * h1, a10 = -k1 * h0, a11 = 1.0 - (k1 * h1);
                var ap00 = (a00 * p00) + (a01 * p01);
                var ap01 = (a00 * p01) + (a01 * p11);
                var ap10 = (a10 * p00) + (a11 * p01);
                var ap11 = (a10 * p01) + (a11 * p11);
                var n00 = (ap00 * a00) + (ap01 * a01) + (k0 * k0 * r);
                var n01 = (ap00 * a10) + (ap01 * a11) + (k0 * k1 * r);
                var n10 = (ap10 * a00) + (ap11 * a01) + (k1 * k0 * r);
                var n11 = (ap10 * a10) + (ap11 * a11) + (k1 * k1 * r);
                p00 = n00;
                p01 = 0.5 * (n01 + n10);
                p11 = n11;
                var nis = v * v * inv;
                estimate.NormalizedInnovationSquared = nis;
                estimate.LogLikelihood = -0.5 * (Log2Pi + Math.Log(s) + nis);
                estimate.ObservedCount = 1;
            }
        }

        var sm = estimate.StateMean;
        var sc = estimate.StateCovariance;
        sm[0] = a0;
        sm[1] = a1;
        sc[0] = p00;
        sc[1] = p01;
        sc[2] = p01;
        sc[3] = p11;
        state[MeanSlot] = a0;
        state[MeanSlot + 1] = a1;
        state[MeanSlot + 2] = p00;
        state[MeanSlot + 3] = p01;
        state[MeanSlot + 4] = p01;
        state[MeanSlot + 5] = p11;
        state[StepsSlot] += 1.0;
        if (!double.IsFinite(a0) || !double.IsFinite(a1) || !double.IsFinite(p00) || !double.IsFinite(p01) || !double.IsFinite(p11))
        {
            estimate.Flags |= EstimateFlags.Reinitialized;
        }
        else if (!(p00 >= 0.0) || !(p11 >= 0.0) || (p01 * p01) > (p00 * p11 * (1.0 + 1e-9)) + 1e-300)
        {
            Dense.RepairCovariance(state.Slice(covSlot, 4), 2);
            state.Slice(covSlot, 4).CopyTo(sc);
            estimate.Flags |= EstimateFlags.Repaired;
        }
    }

    private void GeneralStep(Span<double> state, in Observation observation, Estimate estimate, Span<double> record)
    {
        var nn = n * n;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var first = state[StepsSlot] == 0.0;
        var diffuse = state[DiffuseSlot] != 0.0;
        var mean = state.Slice(MeanSlot, n);
        var cov = state.Slice(covSlot, nn);
        var inf = diffuse ? state.Slice(infSlot, nn) : default;

        var pm = arena.Take(n);
        var pc = arena.Take(nn);
        var pinf = diffuse ? arena.Take(nn) : default;
        var hasRecord = !record.IsEmpty;
        var recPredMean = hasRecord ? record.Slice(n + nn, n) : default;
        var recPredCov = hasRecord ? record.Slice(n + nn + n, nn) : default;
        var recCross = hasRecord ? record.Slice(n + nn + n + nn, nn) : default;

        if (first)
        {
            mean.CopyTo(pm);
            cov.CopyTo(pc);
            if (diffuse)
            {
                inf.CopyTo(pinf);
            }

            if (hasRecord)
            {
                recCross.Clear();
            }
        }
        else
        {
            ReadOnlySpan<double> f, q, c;
            if (fixedTransition is not null)
            {
                f = fixedTransition;
                q = fixedNoise;
                c = fixedOffset;
            }
            else
            {
                var fs = arena.Take(nn);
                var qs = arena.Take(nn);
                var cs = arena.Take(n);
                model.Dynamics.Discretize(observation.TimeGap, fs, qs, cs);
                f = fs;
                q = qs;
                c = cs;
            }

            Dense.MultiplyVector(f, n, n, mean, pm);
            for (var i = 0; i < n; i++)
            {
                pm[i] += c[i];
            }

            if (hasControl && !observation.Control.IsEmpty)
            {
                var u = model.ControlDimension;
                for (var i = 0; i < n; i++)
                {
                    var s = 0.0;
                    for (var j = 0; j < u; j++)
                    {
                        var uj = observation.Control[j];
                        if (double.IsFinite(uj))
                        {
                            s += model.Control[(i * u) + j] * uj;
                        }
                    }

                    pm[i] += s;
                }
            }

            var fp = arena.Take(nn);
            Dense.Multiply(f, n, n, cov, n, fp);
            Dense.MultiplyTransposed(fp, n, n, f, n, pc);
            for (var i = 0; i < nn; i++)
            {
                pc[i] += q[i];
            }

            Dense.Symmetrize(pc, n);
            if (hasRecord)
            {
                // Cov(h_{t-1}, h_t | y_{1:t-1}) = P_{t-1|t-1} F'.
                Dense.MultiplyTransposed(cov, n, n, f, n, recCross);
            }

            if (diffuse)
            {
                Dense.Multiply(f, n, n, inf, n, fp);
                Dense.MultiplyTransposed(fp, n, n, f, n, pinf);
                Dense.Symmetrize(pinf, n);
                if (hasRecord)
                {
                    var crossInf = arena.Take(nn);
                    Dense.MultiplyTransposed(inf, n, n, f, n, crossInf);
                    for (var i = 0; i < nn; i++)
                    {
                        recCross[i] += DiffuseRecordScale * crossInf[i];
                    }
                }
            }
        }

        // Predicted state and observation moments.
        pm.CopyTo(estimate.PredictedMean);
        pc.CopyTo(estimate.PredictedCovariance);
        var h = model.Observation;
        var om = estimate.ObservationMean;
        var oc = estimate.ObservationCovariance;
        Dense.MultiplyVector(h, m, n, pm, om);
        var d = model.ObservationOffset;
        for (var i = 0; i < m; i++)
        {
            om[i] += d[i];
        }

        var hp = arena.Take(m * n);
        Dense.Multiply(h, m, n, pc, n, hp);
        Dense.MultiplyTransposed(hp, m, n, h, m, oc);
        var r = model.ObservationNoise;
        for (var i = 0; i < m * m; i++)
        {
            oc[i] += r[i];
        }

        if (hasRecord)
        {
            pm.CopyTo(recPredMean);
            pc.CopyTo(recPredCov);
            if (diffuse)
            {
                for (var i = 0; i < nn; i++)
                {
                    recPredCov[i] += DiffuseRecordScale * pinf[i];
                }
            }
        }

        // Observed components.
        Span<int> observed = stackalloc int[m];
        var k = 0;
        var y = observation.Values;
        for (var i = 0; i < m; i++)
        {
            if (double.IsFinite(y[i]))
            {
                observed[k++] = i;
            }
        }

        observed = observed[..k];
        pm.CopyTo(mean);
        pc.CopyTo(cov);
        if (diffuse)
        {
            pinf.CopyTo(inf);
            MarkInfinite(estimate.PredictedCovariance, pinf, n);
            var hinf = arena.Take(m * m);
            Dense.Multiply(h, m, n, pinf, n, hp);
            Dense.MultiplyTransposed(hp, m, n, h, m, hinf);
            MarkInfinite(oc, hinf, m);
            estimate.Flags |= EstimateFlags.Diffuse;
        }

        if (k > 0)
        {
            estimate.ObservedCount = k;
            if (diffuse)
            {
                DiffuseUpdate(mean, cov, inf, y, observed, estimate);
                if (IsNegligible(inf))
                {
                    inf.Clear();
                    state[DiffuseSlot] = 0.0;
                }
            }
            else
            {
                StandardUpdate(mean, cov, y, observed, estimate);
            }
        }

        mean.CopyTo(estimate.StateMean);
        cov.CopyTo(estimate.StateCovariance);
        if (state[DiffuseSlot] != 0.0)
        {
            MarkInfinite(estimate.StateCovariance, inf, n);
        }

        if (hasRecord)
        {
            mean.CopyTo(record[..n]);
            var recFiltCov = record.Slice(n, nn);
            cov.CopyTo(recFiltCov);
            if (state[DiffuseSlot] != 0.0)
            {
                for (var i = 0; i < nn; i++)
                {
                    recFiltCov[i] += DiffuseRecordScale * inf[i];
                }
            }
        }

        state[StepsSlot] += 1.0;
        if (!Dense.AllFinite(mean) || !Dense.AllFinite(cov))
        {
            estimate.Flags |= EstimateFlags.Reinitialized;
        }
        else if (!Dense.LooksPositiveSemiDefinite(cov, n))
        {
            Dense.RepairCovariance(cov, n);
            cov.CopyTo(estimate.StateCovariance);
            estimate.Flags |= EstimateFlags.Repaired;
        }

        arena.Release(mark);
    }

    private void StandardUpdate(Span<double> mean, Span<double> cov, ReadOnlySpan<double> y, ReadOnlySpan<int> observed, Estimate estimate)
    {
        var k = observed.Length;
        var nn = n * n;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var h = model.Observation;
        var r = model.ObservationNoise;
        var oc = estimate.ObservationCovariance;
        var om = estimate.ObservationMean;

        var ho = arena.Take(k * n);
        var s = arena.Take(k * k);
        var ro = arena.Take(k * k);
        var v = arena.Take(k);
        for (var a = 0; a < k; a++)
        {
            var ia = observed[a];
            h.Slice(ia * n, n).CopyTo(ho.Slice(a * n, n));
            v[a] = y[ia] - om[ia];
            for (var b = 0; b < k; b++)
            {
                s[(a * k) + b] = oc[(ia * m) + observed[b]];
                ro[(a * k) + b] = r[(ia * m) + observed[b]];
            }
        }

        if (!Dense.Cholesky(s, k))
        {
            estimate.Flags |= EstimateFlags.ObservationSkipped;
            estimate.ObservedCount = 0;
            arena.Release(mark);
            return;
        }

        // Kt = S⁻¹ H_o P⁻ (k×n), i.e. K = Kt'.
        var kt = arena.Take(k * n);
        Dense.Multiply(ho, k, n, cov, n, kt);
        Dense.CholeskySolve(s, k, kt, n);

        var z = arena.Take(k);
        v.CopyTo(z);
        Dense.ForwardSubstitute(s, k, z);
        var nis = 0.0;
        for (var a = 0; a < k; a++)
        {
            nis += z[a] * z[a];
        }

        estimate.NormalizedInnovationSquared = nis;
        estimate.LogLikelihood = -0.5 * ((k * Log2Pi) + Dense.LogDeterminantFromCholesky(s, k) + nis);

        for (var i = 0; i < n; i++)
        {
            var acc = 0.0;
            for (var a = 0; a < k; a++)
            {
                acc += kt[(a * n) + i] * v[a];
            }

            mean[i] += acc;
        }

        // Joseph form: P = A P⁻ A' + K R K', A = I − K H_o.
        var amat = arena.Take(nn);
        Dense.TransposedMultiply(kt, k, n, ho, n, amat);
        for (var i = 0; i < nn; i++)
        {
            amat[i] = -amat[i];
        }

        for (var i = 0; i < n; i++)
        {
            amat[(i * n) + i] += 1.0;
        }

        var ap = arena.Take(nn);
        Dense.Multiply(amat, n, n, cov, n, ap);
        Dense.MultiplyTransposed(ap, n, n, amat, n, cov);
        var kr = arena.Take(n * k);
        Dense.TransposedMultiply(kt, k, n, ro, k, kr);
        var krk = arena.Take(nn);
        Dense.Multiply(kr, n, k, kt, n, krk);
        for (var i = 0; i < nn; i++)
        {
            cov[i] += krk[i];
        }

        Dense.Symmetrize(cov, n);
        arena.Release(mark);
    }

    private void DiffuseUpdate(Span<double> mean, Span<double> pstar, Span<double> pinf, ReadOnlySpan<double> y, ReadOnlySpan<int> observed, Estimate estimate)
    {
        var k = observed.Length;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var h = model.Observation;
        var r = model.ObservationNoise;
        var d = model.ObservationOffset;

        // Decorrelate the observed rows: R_oo = L D L' with unit lower L; y* = L⁻¹ y, H* = L⁻¹ H.
        var hs = arena.Take(k * n);
        var ys = arena.Take(k);
        var dvar = arena.Take(k);
        for (var a = 0; a < k; a++)
        {
            var ia = observed[a];
            h.Slice(ia * n, n).CopyTo(hs.Slice(a * n, n));
            ys[a] = y[ia] - d[ia];
            dvar[a] = r[(ia * m) + ia];
        }

        if (!diagonalObservationNoise && k > 1)
        {
            var l = arena.Take(k * k);
            for (var a = 0; a < k; a++)
            {
                for (var b = 0; b < k; b++)
                {
                    l[(a * k) + b] = r[(observed[a] * m) + observed[b]];
                }
            }

            if (!Dense.Cholesky(l, k))
            {
                estimate.Flags |= EstimateFlags.ObservationSkipped;
                estimate.ObservedCount = 0;
                arena.Release(mark);
                return;
            }

            // R_oo = C C' (C lower) = L D L' with L = C diag(C)⁻¹ (columns scaled) and D = diag(C)².
            for (var b = 0; b < k; b++)
            {
                var c = l[(b * k) + b];
                dvar[b] = c * c;
                l[(b * k) + b] = 1.0;
                for (var a = b + 1; a < k; a++)
                {
                    l[(a * k) + b] /= c;
                }
            }

            // Forward substitution with the unit lower L on ys and on each column of hs.
            for (var a = 0; a < k; a++)
            {
                for (var b = 0; b < a; b++)
                {
                    var lab = l[(a * k) + b];
                    ys[a] -= lab * ys[b];
                    for (var j = 0; j < n; j++)
                    {
                        hs[(a * n) + j] -= lab * hs[(b * n) + j];
                    }
                }
            }
        }

        var minf = arena.Take(n);
        var mstar = arena.Take(n);
        var loglik = 0.0;
        var nis = 0.0;
        var nonDiffuseRows = 0;
        for (var a = 0; a < k; a++)
        {
            var z = hs.Slice(a * n, n);
            Dense.MultiplyVector(pinf, n, n, z, minf);
            Dense.MultiplyVector(pstar, n, n, z, mstar);
            double finf = 0.0, fstar = dvar[a], zz = 0.0, za = 0.0;
            for (var j = 0; j < n; j++)
            {
                finf += z[j] * minf[j];
                fstar += z[j] * mstar[j];
                zz += z[j] * z[j];
                za += z[j] * mean[j];
            }

            var v = ys[a] - za;
            if (finf > 1e-10 * Math.Max(zz, 1e-300))
            {
                // K0 = M∞/F∞; a += K0 v; P* += K0 K0' F* − K0 M*' − M* K0'; P∞ −= M∞ M∞'/F∞.
                for (var i = 0; i < n; i++)
                {
                    var k0i = minf[i] / finf;
                    mean[i] += k0i * v;
                    for (var j = 0; j < n; j++)
                    {
                        var k0j = minf[j] / finf;
                        pstar[(i * n) + j] += (k0i * k0j * fstar) - (k0i * mstar[j]) - (mstar[i] * k0j);
                        pinf[(i * n) + j] -= minf[i] * minf[j] / finf;
                    }
                }

                loglik -= 0.5 * (Log2Pi + Math.Log(finf));
            }
            else if (fstar > 0.0)
            {
                for (var i = 0; i < n; i++)
                {
                    var ki = mstar[i] / fstar;
                    mean[i] += ki * v;
                    for (var j = 0; j < n; j++)
                    {
                        pstar[(i * n) + j] -= ki * mstar[j];
                    }
                }

                var e = v * v / fstar;
                nis += e;
                nonDiffuseRows++;
                loglik -= 0.5 * (Log2Pi + Math.Log(fstar) + e);
            }
            else
            {
                estimate.Flags |= EstimateFlags.ObservationSkipped;
            }
        }

        Dense.Symmetrize(pstar, n);
        Dense.Symmetrize(pinf, n);
        estimate.LogLikelihood = loglik;
        estimate.NormalizedInnovationSquared = nonDiffuseRows > 0 ? nis : double.NaN;
        arena.Release(mark);
    }

    private static bool IsNegligible(ReadOnlySpan<double> pinf)
    {
        foreach (var v in pinf)
        {
            if (Math.Abs(v) > 1e-9)
            {
                return false;
            }
        }

        return true;
    }

    private static void MarkInfinite(Span<double> target, ReadOnlySpan<double> diffusePart, int dim)
    {
        for (var i = 0; i < dim * dim; i++)
        {
            var v = diffusePart[i];
            if (Math.Abs(v) > 1e-9)
            {
                target[i] = v > 0 ? double.PositiveInfinity : double.NegativeInfinity;
            }
        }
    }

    private void Guard(Span<double> state, Estimate estimate)
    {
        if ((estimate.Flags & EstimateFlags.Reinitialized) != 0)
        {
            Initialize(state, 0);
            estimate.LogLikelihood = double.NaN;
            estimate.NormalizedInnovationSquared = double.NaN;
            ReadState(state, estimate.StateMean, estimate.StateCovariance);
        }
        else if ((scalar || twoByOne) && (estimate.Flags & EstimateFlags.ObservationSkipped) != 0)
        {
            estimate.ObservedCount = 0;
        }
    }

    /// <inheritdoc />
    public void Forecast(ReadOnlySpan<double> state, double stepGap, Forecast forecast)
    {
        ArgumentNullException.ThrowIfNull(forecast);
        var nn = n * n;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var a = arena.Take(n);
        var p = arena.Take(nn);
        var diffuse = state[DiffuseSlot] != 0.0;
        var pinf = diffuse ? arena.Take(nn) : default;
        state.Slice(MeanSlot, n).CopyTo(a);
        state.Slice(covSlot, nn).CopyTo(p);
        if (diffuse)
        {
            state.Slice(infSlot, nn).CopyTo(pinf);
        }

        var f = arena.Take(nn);
        var q = arena.Take(nn);
        var c = arena.Take(n);
        model.Dynamics.Discretize(stepGap, f, q, c);
        var tmp = arena.Take(nn);
        var an = arena.Take(n);
        var hp = arena.Take(m * n);
        var hinf = diffuse ? arena.Take(m * m) : default;
        var h = model.Observation;
        for (var k = 1; k <= forecast.MaxHorizon; k++)
        {
            Dense.MultiplyVector(f, n, n, a, an);
            for (var i = 0; i < n; i++)
            {
                a[i] = an[i] + c[i];
            }

            Dense.Multiply(f, n, n, p, n, tmp);
            Dense.MultiplyTransposed(tmp, n, n, f, n, p);
            for (var i = 0; i < nn; i++)
            {
                p[i] += q[i];
            }

            Dense.Symmetrize(p, n);
            a.CopyTo(forecast.StateMeanAt(k));
            var sc = forecast.StateCovarianceAt(k);
            p.CopyTo(sc);
            var om = forecast.ObservationMeanAt(k);
            Dense.MultiplyVector(h, m, n, a, om);
            for (var i = 0; i < m; i++)
            {
                om[i] += model.ObservationOffset[i];
            }

            var oc = forecast.ObservationCovarianceAt(k);
            Dense.Multiply(h, m, n, p, n, hp);
            Dense.MultiplyTransposed(hp, m, n, h, m, oc);
            for (var i = 0; i < m * m; i++)
            {
                oc[i] += model.ObservationNoise[i];
            }

            if (diffuse)
            {
                Dense.Multiply(f, n, n, pinf, n, tmp);
                Dense.MultiplyTransposed(tmp, n, n, f, n, pinf);
                MarkInfinite(sc, pinf, n);
                Dense.Multiply(h, m, n, pinf, n, hp);
                Dense.MultiplyTransposed(hp, m, n, h, m, hinf);
                MarkInfinite(oc, hinf, m);
            }
        }

        arena.Release(mark);
    }

    /// <inheritdoc />
    public void ReadState(ReadOnlySpan<double> state, Span<double> mean, Span<double> covariance)
    {
        state.Slice(MeanSlot, n).CopyTo(mean);
        state.Slice(covSlot, n * n).CopyTo(covariance);
        if (state[DiffuseSlot] != 0.0)
        {
            MarkInfinite(covariance, state.Slice(infSlot, n * n), n);
        }
    }

    /// <inheritdoc />
    public void StartBackward(ReadOnlySpan<double> record, Span<double> message) =>
        record[..(n + (n * n))].CopyTo(message);

    /// <inheritdoc />
    public void Backward(ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message) =>
        GaussianBackward.Step(n, record, nextRecord, message);

    /// <inheritdoc />
    public void ReadSmoothed(ReadOnlySpan<double> record, ReadOnlySpan<double> message, Span<double> mean, Span<double> covariance)
    {
        message[..n].CopyTo(mean);
        message.Slice(n, n * n).CopyTo(covariance);
    }
}
