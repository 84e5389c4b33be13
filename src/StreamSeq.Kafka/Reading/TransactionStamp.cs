using StreamSeq.Kafka.Transport;

namespace StreamSeq.Kafka.Reading;

/// <summary>
/// The value of the <see cref="ChangelogKeys.TransactionHeader"/> header, <c>instance/incarnation/sequence/partition</c>:
/// which writer (an instance in one run) wrote the record, in which of its transactions, for which input partition.
/// </summary>
/// <param name="Writer">Instance and incarnation: one run of one worker instance (transactions of a writer run one after the other).</param>
/// <param name="Sequence">The writer's transaction number.</param>
/// <param name="Partition">The input partition the record came from.</param>
internal readonly record struct TransactionStamp(string Writer, long Sequence, string Partition)
{
    /// <summary>Reads a stamp; false when the text is not one (then the record is judged as unstamped).</summary>
    public static bool TryParse(string text, out TransactionStamp stamp)
    {
        // The instance id may itself contain '/', so the fields are taken from the right.
        var partitionAt = text.LastIndexOf('/');
        var sequenceAt = partitionAt > 0 ? text.LastIndexOf('/', partitionAt - 1) : -1;
        if (sequenceAt > 0 && long.TryParse(text.AsSpan(sequenceAt + 1, partitionAt - sequenceAt - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var sequence))
        {
            stamp = new TransactionStamp(text[..sequenceAt], sequence, text[(partitionAt + 1)..]);
            return true;
        }

        stamp = default;
        return false;
    }
}
