namespace StreamSeq.Kafka.Transport;

/// <summary>Header names on dead-letter records.</summary>
public static class DeadLetterHeaders
{
    /// <summary>The reason (<c>unparseable</c>, <c>wrong-dimension</c>, <c>unknown-model</c>, <c>too-late</c>, ...).</summary>
    public const string Kind = "streamseq.error.kind";

    /// <summary>A message naming the field or record and the problem.</summary>
    public const string Message = "streamseq.error.message";

    /// <summary>Source topic.</summary>
    public const string SourceTopic = "streamseq.source.topic";

    /// <summary>Source partition.</summary>
    public const string SourcePartition = "streamseq.source.partition";

    /// <summary>Source offset.</summary>
    public const string SourceOffset = "streamseq.source.offset";

    /// <summary>
    /// Present when the dead letter had to be cut to fit the broker's message size: the original sizes,
    /// <c>key=&lt;bytes&gt;;value=&lt;bytes&gt;</c>; the key and value kept are the leading bytes of the originals.
    /// </summary>
    public const string Truncated = "streamseq.error.truncated";
}
