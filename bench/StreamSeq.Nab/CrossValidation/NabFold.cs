namespace StreamSeq.Nab.CrossValidation;

/// <summary>
/// One fold of a cross-validation: files that are held out together. A fold is scored as a corpus of its own, with
/// the null and perfect scores over its files.
/// </summary>
/// <param name="Name">The fold's name (a category, or "files k/K").</param>
/// <param name="Files">The fold's data files.</param>
public sealed record NabFold(string Name, IReadOnlyList<NabDataFile> Files)
{
    /// <summary>Labelled windows in the fold.</summary>
    public int WindowCount => Files.Sum(f => f.Windows.Count);

    /// <summary>Windows that NAB scores (those not wholly inside probation).</summary>
    public int ScoredWindowCount => Files.Sum(f => f.ScoredWindowCount);
}
