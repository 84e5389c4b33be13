namespace StreamSeq.Processing.Records;

/// <summary>Outcome of reading one CSV row.</summary>
public enum CsvReadStatus
{
    /// <summary>A record was read.</summary>
    Record,

    /// <summary>The row is malformed; the error names file, line and column.</summary>
    Error,

    /// <summary>End of file.</summary>
    End,
}
