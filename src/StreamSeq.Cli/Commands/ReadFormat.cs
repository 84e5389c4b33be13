namespace StreamSeq.Cli.Commands;

/// <summary>What <c>streamseq read</c> prints per record (one JSON document per line).</summary>
internal enum ReadFormat
{
    /// <summary>The record's value: for the worker's topics, the same line <c>streamseq run</c> writes.</summary>
    Value,

    /// <summary>The whole record: topic, partition, offset, timestamp, key, headers and value.</summary>
    Record,

    /// <summary>The value with the key added as its <c>stream</c> field: the JSON Lines input of <c>streamseq run</c>.</summary>
    Input,
}
