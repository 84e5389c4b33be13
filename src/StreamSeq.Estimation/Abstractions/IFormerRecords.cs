namespace StreamSeq.Estimation.Abstractions;

/// <summary>
/// A backward step whose records had another layout in the previous build, so that states holding such records (a
/// fixed-lag smoother's window) can be converted when restored instead of being discarded.
/// </summary>
/// <remarks>
/// A converted record is smoothed as the previous build smoothed it: a backward pass over a window that holds one
/// starts with <see cref="StartBackwardAsFormer"/>, which keeps the whole pass on the previous build's arithmetic, so
/// the smoothed moments equal the previous build's bit for bit while converted records remain in the window.
/// </remarks>
internal interface IFormerRecords
{
    /// <summary>Length of the previous build's record, or 0 when the layout did not change (nothing to convert).</summary>
    int FormerRecordLength { get; }

    /// <summary>
    /// Converts a record of the previous layout. <paramref name="state"/> is the estimator's own state as saved with
    /// the record; <paramref name="newest"/> says the record is the newest one, written by the step that left that state.
    /// </summary>
    void UpgradeRecord(ReadOnlySpan<double> former, ReadOnlySpan<double> state, bool newest, Span<double> record);

    /// <summary>True for a record converted by <see cref="UpgradeRecord"/>.</summary>
    bool IsFormerRecord(ReadOnlySpan<double> record);

    /// <summary><see cref="IBackwardStep.StartBackward"/> for a pass over records of which some are converted ones.</summary>
    void StartBackwardAsFormer(ReadOnlySpan<double> record, Span<double> message);
}
