namespace StreamSeq.Estimation.Changepoint;

/// <summary>
/// The hazard function of a changepoint model: the probability that a segment which has lasted d steps ends
/// after its d-th step, h(d) = P(L = d | L ≥ d) for segment length L.
/// </summary>
/// <remarks>
/// <para>A constant hazard (<see cref="ConstantHazard"/>) gives geometric segment lengths; <see cref="WeibullHazard"/>
/// and <see cref="LogisticHazard"/> let the chance of a change grow (or shrink) with the age of the segment.
/// Derive from this class to plug in another; the detector tabulates h(1..R+1) once when it is built, so the
/// function may be slow but must be deterministic and return values in [0, 1].</para>
/// </remarks>
public abstract class ChangepointHazard
{
    /// <summary>The <c>hazard.type</c> value in specs.</summary>
    public abstract string Type { get; }

    /// <summary>h(d) for a segment that has lasted <paramref name="duration"/> ≥ 1 steps.</summary>
    public abstract double Probability(int duration);
}
