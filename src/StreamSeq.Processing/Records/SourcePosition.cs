namespace StreamSeq.Processing.Records;

/// <summary>Where a record came from: a Kafka topic/partition/offset or a file and line.</summary>
/// <param name="Source">Topic or file name.</param>
/// <param name="Partition">Kafka partition, or -1 for files.</param>
/// <param name="Offset">Kafka offset, or the 1-based line number of a file.</param>
public readonly record struct SourcePosition(string Source, int Partition, long Offset)
{
    /// <summary>A file line.</summary>
    public static SourcePosition FileLine(string file, long line) => new(file, -1, line);

    /// <inheritdoc />
    public override string ToString() => Partition < 0 ? $"{Source}:{Offset}" : $"{Source}[{Partition}]@{Offset}";
}
