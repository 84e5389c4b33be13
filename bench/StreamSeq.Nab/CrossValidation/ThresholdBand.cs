namespace StreamSeq.Nab.CrossValidation;

/// <summary>
/// The contiguous range of thresholds around the shipped one where the shipped candidate's in-sample score stays
/// within <paramref name="Tolerance"/> points of its best in-sample score <paramref name="Optimum"/> (NAB's optimiser
/// on every file), searched on a grid of <see cref="CrossValidator.BandStep"/>, at most
/// <see cref="CrossValidator.BandReach"/> either side. Empty (low = high = the shipped threshold) when the shipped
/// threshold itself is not that close.
/// </summary>
/// <param name="Profile">The profile's name.</param>
/// <param name="Tolerance">Normalised points below the optimum still counted near-optimal.</param>
/// <param name="Optimum">The best in-sample normalised score over every threshold.</param>
/// <param name="Low">Lowest threshold of the band.</param>
/// <param name="High">Highest threshold of the band.</param>
public sealed record ThresholdBand(string Profile, double Tolerance, double Optimum, double Low, double High)
{
    /// <summary>High minus low.</summary>
    public double Width => High - Low;
}
