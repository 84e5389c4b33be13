using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Records;

namespace StreamSeq.Worker.Dashboard;

/// <summary>
/// A record copied off the processing loop for the dashboard: an output record, or an input record when
/// <see cref="IsInput"/> (from input <see cref="Partition"/>, -1 when unknown); or news of ownership: a stream a restored
/// partition holds (<see cref="Restored"/>), or partitions given up (<see cref="Released"/>).
/// </summary>
internal readonly record struct IngestItem(bool IsInput, OutputKind Kind, string Stream, byte[] Bytes, double Timestamp, int Partition = -1, OwnedStream? Restored = null, int[]? Released = null);
