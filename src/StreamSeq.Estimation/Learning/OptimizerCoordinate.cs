namespace StreamSeq.Estimation.Learning;

/// <summary>One coordinate of the vector the optimiser moves, with its standard error on that scale.</summary>
/// <param name="Name">What the coordinate is, for example <c>log observationNoise[0][0]</c>.</param>
/// <param name="Scale"><c>log</c> (a variance), <c>log-cholesky</c> (the log of a Cholesky factor's diagonal),
/// <c>cholesky</c> (an off-diagonal Cholesky entry) or <c>natural</c>.</param>
/// <param name="Estimate">The coordinate's value at the optimum.</param>
/// <param name="StandardError">sqrt of the diagonal of the inverse observed information; NaN when unavailable.</param>
public sealed record OptimizerCoordinate(string Name, string Scale, double Estimate, double StandardError);
