namespace StreamSeq.Nab;

/// <summary>A labelled anomaly window of one data file: every row whose timestamp lies in [Start, End].</summary>
/// <param name="Start">Timestamp of the window's first row; it must be a timestamp of the file.</param>
/// <param name="End">Timestamp of the window's last row; it must be a timestamp of the file.</param>
public readonly record struct AnomalyWindow(DateTime Start, DateTime End);
