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

    /// <summary>Largest state or observation dimension handled by the stack-only kernel.</summary>
    private const int CompactMaxDimension = 8;

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
    private readonly bool compact;
    private readonly int compactWorkLength;

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
        compact = n <= CompactMaxDimension && m <= CompactMaxDimension;
        compactWorkLength = (4 * n * n) + n + (5 * m * n) + (2 * m * m) + (2 * m);
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
        else if (compact && state[DiffuseSlot] == 0.0 && backwardRecord.IsEmpty)
        {
            CompactStep(state, observation, estimate);
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

    /// <summary>
    /// The proper-prior step without a backward record for models up to <see cref="CompactMaxDimension"/> states and
    /// observations: the same algebra as <see cref="GeneralStep"/> with every temporary on the stack (not cleared),
    /// zero entries of F and H skipped, symmetric products computed once per pair, and the Joseph form applied with
    /// A = I − K H kept implicit: A P = P − K (H P), (A P) A' = A P − (A P H') K', plus K R K'.
    /// </summary>
    [SkipLocalsInit]
    private void CompactStep(Span<double> state, in Observation observation, Estimate estimate)
    {
        var n = this.n;
        var m = this.m;
        var nn = n * n;
        Span<double> work = stackalloc double[compactWorkLength];
        var mean = state.Slice(MeanSlot, n);
        var cov = state.Slice(covSlot, nn);
        var pm = estimate.PredictedMean.AsSpan(0, n);
        var pc = estimate.PredictedCovariance.AsSpan(0, nn);

        // Work layout: F, Q, c (gap-dependent models) | F P | U = H P⁻ | update temporaries.
        var fp = work.Slice((2 * nn) + n, nn);
        var u = work.Slice((3 * nn) + n, m * n);
        if (state[StepsSlot] == 0.0)
        {
            mean.CopyTo(pm);
            cov.CopyTo(pc);
        }
        else
        {
            scoped ReadOnlySpan<double> f, q, c;
            if (fixedTransition is not null)
            {
                f = fixedTransition;
                q = fixedNoise;
                c = fixedOffset;
            }
            else
            {
                var fs = work[..nn];
                var qs = work.Slice(nn, nn);
                var cs = work.Slice(2 * nn, n);
                fs.Clear();
                qs.Clear();
                cs.Clear();
                model.Dynamics.Discretize(observation.TimeGap, fs, qs, cs);
                f = fs;
                q = qs;
                c = cs;
            }

            // a⁻ = F a + c (+ B u); FP = F P with zero entries of F skipped.
            fp.Clear();
            for (var i = 0; i < n; i++)
            {
                var acc = c[i];
                var row = fp.Slice(i * n, n);
                for (var k = 0; k < n; k++)
                {
                    var fik = f[(i * n) + k];
                    if (fik == 0.0)
                    {
                        continue;
                    }

                    acc += fik * mean[k];
                    var prow = cov.Slice(k * n, n);
                    for (var j = 0; j < n; j++)
                    {
                        row[j] += fik * prow[j];
                    }
                }

                pm[i] = acc;
            }

            if (hasControl && !observation.Control.IsEmpty)
            {
                AddControl(observation.Control, pm);
            }

            // P⁻ = F P F' + Q, one product per pair (i ≤ j), symmetric by construction.
            for (var i = 0; i < n; i++)
            {
                var fpi = fp.Slice(i * n, n);
                for (var j = i; j < n; j++)
                {
                    var fj = f.Slice(j * n, n);
                    var acc = 0.5 * (q[(i * n) + j] + q[(j * n) + i]);
                    for (var k = 0; k < n; k++)
                    {
                        acc += fpi[k] * fj[k];
                    }

                    pc[(i * n) + j] = acc;
                    pc[(j * n) + i] = acc;
                }
            }
        }

        // Predictive moments of y: ŷ = H a⁻ + d, U = H P⁻, S = U H' + R.
        var h = model.Observation;
        var r = model.ObservationNoise;
        var d = model.ObservationOffset;
        var om = estimate.ObservationMean.AsSpan(0, m);
        var oc = estimate.ObservationCovariance.AsSpan(0, m * m);
        u.Clear();
        for (var i = 0; i < m; i++)
        {
            var acc = d[i];
            var row = u.Slice(i * n, n);
            for (var k = 0; k < n; k++)
            {
                var hik = h[(i * n) + k];
                if (hik == 0.0)
                {
                    continue;
                }

                acc += hik * pm[k];
                var prow = pc.Slice(k * n, n);
                for (var j = 0; j < n; j++)
                {
                    row[j] += hik * prow[j];
                }
            }

            om[i] = acc;
        }

        for (var i = 0; i < m; i++)
        {
            var ui = u.Slice(i * n, n);
            for (var j = i; j < m; j++)
            {
                var hj = h.Slice(j * n, n);
                var acc = 0.0;
                for (var k = 0; k < n; k++)
                {
                    acc += ui[k] * hj[k];
                }

                oc[(i * m) + j] = acc + r[(i * m) + j];
                oc[(j * m) + i] = acc + r[(j * m) + i];
            }
        }

        // Observed rows.
        Span<int> observed = stackalloc int[m];
        var y = observation.Values;
        var kObs = 0;
        for (var i = 0; i < m; i++)
        {
            if (double.IsFinite(y[i]))
            {
                observed[kObs++] = i;
            }
        }

        if (kObs == 0)
        {
            pm.CopyTo(mean);
            pc.CopyTo(cov);
        }
        else
        {
            CompactUpdate(work[((3 * nn) + n + (m * n))..], observed[..kObs], y, u, pm, pc, mean, cov, estimate);
        }

        mean.CopyTo(estimate.StateMean);
        cov.CopyTo(estimate.StateCovariance);
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
    }

    /// <summary>The update of <see cref="CompactStep"/> over the observed rows (Joseph form, see there).</summary>
    [SkipLocalsInit]
    private void CompactUpdate(
        Span<double> work,
        ReadOnlySpan<int> observed,
        ReadOnlySpan<double> y,
        ReadOnlySpan<double> u,
        ReadOnlySpan<double> pm,
        ReadOnlySpan<double> pc,
        Span<double> mean,
        Span<double> cov,
        Estimate estimate)
    {
        var n = this.n;
        var m = this.m;
        var k = observed.Length;
        var h = model.Observation;
        var r = model.ObservationNoise;
        var om = estimate.ObservationMean;
        var oc = estimate.ObservationCovariance;
        var l = work[..(k * k)];
        var kt = work.Slice(k * k, k * n);
        var v = work.Slice((k * k) + (k * n), k);
        var z = work.Slice((k * k) + (k * n) + k, k);
        var ap = work.Slice((k * k) + (k * n) + (2 * k), n * n);
        var w = work.Slice((k * k) + (k * n) + (2 * k) + (n * n), n * k);
        var kr = work.Slice((k * k) + (2 * k * n) + (2 * k) + (n * n), n * k);
        for (var a = 0; a < k; a++)
        {
            var ia = observed[a];
            v[a] = y[ia] - om[ia];
            u.Slice(ia * n, n).CopyTo(kt.Slice(a * n, n));
            for (var b = 0; b < k; b++)
            {
                l[(a * k) + b] = oc[(ia * m) + observed[b]];
            }
        }

        if (!Dense.Cholesky(l, k))
        {
            estimate.Flags |= EstimateFlags.ObservationSkipped;
            pm.CopyTo(mean);
            pc.CopyTo(cov);
            return;
        }

        estimate.ObservedCount = k;

        // Kt = S⁻¹ H_o P⁻ (k×n), so K = Kt'.
        Dense.CholeskySolve(l, k, kt, n);
        v.CopyTo(z);
        Dense.ForwardSubstitute(l, k, z);
        var nis = 0.0;
        for (var a = 0; a < k; a++)
        {
            nis += z[a] * z[a];
        }

        estimate.NormalizedInnovationSquared = nis;
        estimate.LogLikelihood = -0.5 * ((k * Log2Pi) + Dense.LogDeterminantFromCholesky(l, k) + nis);

        // a = a⁻ + K v; A P = P⁻ − K U_o.
        for (var i = 0; i < n; i++)
        {
            var acc = pm[i];
            for (var a = 0; a < k; a++)
            {
                acc += kt[(a * n) + i] * v[a];
            }

            mean[i] = acc;
        }

        pc.CopyTo(ap);
        for (var a = 0; a < k; a++)
        {
            var ua = u.Slice(observed[a] * n, n);
            var kta = kt.Slice(a * n, n);
            for (var i = 0; i < n; i++)
            {
                var kai = kta[i];
                var row = ap.Slice(i * n, n);
                for (var j = 0; j < n; j++)
                {
                    row[j] -= kai * ua[j];
                }
            }
        }

        // W = (A P) H_o' (n×k) and KR = K R_oo (n×k).
        for (var a = 0; a < k; a++)
        {
            var ha = h.Slice(observed[a] * n, n);
            for (var i = 0; i < n; i++)
            {
                var row = ap.Slice(i * n, n);
                var acc = 0.0;
                for (var j = 0; j < n; j++)
                {
                    var hj = ha[j];
                    if (hj != 0.0)
                    {
                        acc += row[j] * hj;
                    }
                }

                w[(i * k) + a] = acc;
                var kra = 0.0;
                for (var b = 0; b < k; b++)
                {
                    kra += kt[(b * n) + i] * r[(observed[b] * m) + observed[a]];
                }

                kr[(i * k) + a] = kra;
            }
        }

        // P = A P − W K' + KR K', one value per pair (i ≤ j).
        for (var i = 0; i < n; i++)
        {
            for (var j = i; j < n; j++)
            {
                var acc = ap[(i * n) + j];
                for (var a = 0; a < k; a++)
                {
                    acc += (kr[(i * k) + a] - w[(i * k) + a]) * kt[(a * n) + j];
                }

                cov[(i * n) + j] = acc;
                cov[(j * n) + i] = acc;
            }
        }
    }

    private void AddControl(ReadOnlySpan<double> control, Span<double> pm)
    {
        var u = model.ControlDimension;
        for (var i = 0; i < n; i++)
        {
            var s = 0.0;
            for (var j = 0; j < u; j++)
            {
                var uj = control[j];
                if (double.IsFinite(uj))
                {
                    s += model.Control[(i * u) + j] * uj;
                }
            }

            pm[i] += s;
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
