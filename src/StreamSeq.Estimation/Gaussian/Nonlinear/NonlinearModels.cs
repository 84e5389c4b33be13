using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>Ready-made nonlinear models, and the adapter that runs any linear Gaussian model through the EKF or UKF.</summary>
public static class NonlinearModels
{
    /// <summary>
    /// The simple pendulum, integrated with one explicit Euler step of <paramref name="timeStep"/> per observation,
    /// observed through the sine of its angle.
    /// </summary>
    /// <remarks>
    /// State x = [θ, ω] (angle, angular velocity). f(x) = [θ + ω dt, ω − g sin(θ) dt] with dt
    /// <paramref name="timeStep"/> and g <paramref name="gravity"/>; Q = q_c [[dt³/3, dt²/2], [dt²/2, dt]] with q_c
    /// <paramref name="spectralDensity"/> (white-noise angular acceleration); y = sin θ + r, r ~ N(0, R) with R
    /// <paramref name="observationNoise"/>. Jacobians: F = [[1, dt], [−g cos(θ) dt, 1]], H = [cos θ, 0]. The model is
    /// discrete-time: one Euler step per observation whatever the gap between observations.
    /// </remarks>
    public static NonlinearGaussianModel Pendulum(
        double timeStep,
        double gravity,
        double spectralDensity,
        double observationNoise,
        ReadOnlySpan<double> initialMean,
        ReadOnlySpan<double> initialCovariance,
        bool priorAtTimeZero = false)
    {
        Validate.Positive("dt", timeStep);
        if (!double.IsFinite(gravity))
        {
            throw new ModelValidationException("g", $"must be a finite number, got {gravity}.");
        }

        Validate.NonNegative("qc", spectralDensity);
        Validate.AtMostMaxVariance("qc", spectralDensity);
        Validate.NonNegative("observationNoise", observationNoise);
        Validate.AtMostMaxVariance("observationNoise", observationNoise);
        Validate.AtMostMaxVariance("initialCovariance", initialCovariance, 2);
        var dt = timeStep;
        var g = gravity;
        var qc = spectralDensity;
        double[] q = [qc * (Math.Pow(dt, 3) / 3), qc * (Math.Pow(dt, 2) / 2), qc * (Math.Pow(dt, 2) / 2), qc * dt];
        return new NonlinearGaussianModel(
            2,
            1,
            (x, _, next) =>
            {
                next[0] = x[0] + (x[1] * dt);
                next[1] = x[1] - (g * Math.Sin(x[0]) * dt);
            },
            NonlinearGaussianModel.ConstantTransitionNoise(q),
            (x, y) => y[0] = Math.Sin(x[0]),
            [observationNoise],
            initialMean,
            initialCovariance,
            (x, _, jac) =>
            {
                jac[0] = 1.0;
                jac[1] = dt;
                jac[2] = -g * Math.Cos(x[0]) * dt;
                jac[3] = 1.0;
            },
            (x, jac) =>
            {
                jac[0] = Math.Cos(x[0]);
                jac[1] = 0.0;
            },
            priorAtTimeZero: priorAtTimeZero);
    }

    /// <summary>
    /// The univariate nonstationary growth model, a standard stress test for nonlinear filters (its posterior is
    /// often bimodal because y only sees x²).
    /// </summary>
    /// <remarks>
    /// x_t = x_{t-1}/2 + 25 x_{t-1}/(1 + x_{t-1}²) + 8 cos(1.2 t) + v_t, v_t ~ N(0, Q) with Q
    /// <paramref name="transitionNoise"/>; y_t = x_t²/20 + w_t, w_t ~ N(0, R) with R <paramref name="observationNoise"/>.
    /// Its "time" t is the step count, not the observation time: t is <see cref="TransitionContext.Step"/>, the index
    /// of the new state, so with the prior at time zero the first observed state is t = 1, and with the prior at the
    /// first observation (the default) that state is t = 1 and the first transition produces t = 2. Jacobians:
    /// F = 1/2 + 25 (1 − x²)/(1 + x²)², H = x/10. The classic settings are Q = 10, R = 1, x_0 ~ N(0, 5) at time zero.
    /// </remarks>
    public static NonlinearGaussianModel Growth(
        double transitionNoise,
        double observationNoise,
        ReadOnlySpan<double> initialMean,
        ReadOnlySpan<double> initialCovariance,
        bool priorAtTimeZero = false)
    {
        Validate.NonNegative("transitionNoise", transitionNoise);
        Validate.AtMostMaxVariance("transitionNoise", transitionNoise);
        Validate.NonNegative("observationNoise", observationNoise);
        Validate.AtMostMaxVariance("observationNoise", observationNoise);
        Validate.AtMostMaxVariance("initialCovariance", initialCovariance, 1);
        return new NonlinearGaussianModel(
            1,
            1,
            (x, context, next) =>
            {
                var v = x[0];
                next[0] = (v / 2.0) + (25.0 * v / (1.0 + (v * v))) + (8.0 * Math.Cos(1.2 * context.Step));
            },
            NonlinearGaussianModel.ConstantTransitionNoise([transitionNoise]),
            (x, y) => y[0] = x[0] * x[0] / 20.0,
            [observationNoise],
            initialMean,
            initialCovariance,
            (x, _, jac) =>
            {
                var v2 = x[0] * x[0];
                var d = 1.0 + v2;
                jac[0] = 0.5 + (25.0 * (1.0 - v2) / (d * d));
            },
            (x, jac) => jac[0] = x[0] / 10.0,
            priorAtTimeZero: priorAtTimeZero);
    }

    /// <summary>
    /// A linear Gaussian model as a nonlinear one, so the extended and unscented filters can run it (and be checked
    /// against the Kalman filter). Gap-dependent (continuous-time) dynamics keep depending on the gap.
    /// </summary>
    /// <exception cref="ModelValidationException">The model uses exact diffuse initialisation.</exception>
    public static NonlinearGaussianModel FromLinear(LinearGaussianModel model, bool priorAtTimeZero = false) =>
        LinearModelAdapter.Create(model, priorAtTimeZero);
}
