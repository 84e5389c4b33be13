namespace StreamSeq.Estimation.Abstractions;

/// <summary>
/// The backward (smoothing) step of an estimator: from the smoothed message at step t+1 and what the forward
/// pass recorded, the smoothed message at step t. Fixed-lag and fixed-interval smoothing are both built on it.
/// </summary>
/// <remarks>
/// For Gaussian filters the record holds the filtered moments at t, the predicted moments at t and the
/// cross-covariance Cov(h_{t-1}, h_t | y_{1:t-1}); the message is the smoothed mean and covariance (the
/// Rauch–Tung–Striebel recursion). Other families choose their own record and message (an HMM carries state
/// probabilities, a particle filter lineage indices), so the smoothers never look inside either. Records are exactly
/// <see cref="EstimatorInfo.BackwardRecordLength"/> long and messages <see cref="EstimatorInfo.SmoothingMessageLength"/>;
/// the built-in families throw an <see cref="ArgumentException"/> naming the parameter for any other length.
/// </remarks>
public interface IBackwardStep
{
    /// <summary>Starts a backward pass at the newest step: the smoothed message equals the filtered estimate.</summary>
    void StartBackward(ReadOnlySpan<double> record, Span<double> message);

    /// <summary>Turns the smoothed message for step t+1 into the one for step t.</summary>
    /// <param name="record">The forward record of step t.</param>
    /// <param name="nextRecord">The forward record of step t+1.</param>
    /// <param name="message">On entry the message for t+1, on return the message for t.</param>
    void Backward(ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message);

    /// <summary>
    /// The backward step of a fixed-interval pass over a finished series (<see cref="Smoothing.FixedIntervalSmoother"/>),
    /// where a costlier step than the streaming one may pay off; the default is <see cref="Backward"/>. Same
    /// arguments and message layout as <see cref="Backward"/>; a pass uses one of the two throughout.
    /// </summary>
    /// <remarks>The particle filter uses it for marginal (FFBSm) smoothing, O(N²) per step, which a fixed-lag
    /// smoother repeating L backward steps per observation cannot afford.</remarks>
    void BackwardOverInterval(ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message) =>
        Backward(record, nextRecord, message);

    /// <summary>Reads the smoothed mean and covariance of the state from a message.</summary>
    void ReadSmoothed(ReadOnlySpan<double> record, ReadOnlySpan<double> message, Span<double> mean, Span<double> covariance);

    /// <summary>Reads the family's smoothed extras (<see cref="EstimatorInfo.SmoothedExtras"/>) from a message; the
    /// default has none.</summary>
    void ReadSmoothedExtras(ReadOnlySpan<double> record, ReadOnlySpan<double> message, Span<double> extras)
    {
    }
}
