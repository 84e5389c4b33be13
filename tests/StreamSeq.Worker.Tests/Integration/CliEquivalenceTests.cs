using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary><c>streamseq run</c> over a file and the worker over the same records produce identical output records.</summary>
public sealed class CliEquivalenceTests
{
    [Fact]
    public void RunCommandAndWorker_SameRecords_ByteIdenticalOutputsPerStream()
    {
        using var directory = new Scratch("streamseq-eq-");
        using var bed = new KafkaTestBed();
        var input = TestInput.Generate(streams: 60, perStream: 40, seed: 3);
        var fromCli = CliRun.Outputs(bed, TestInput.Model, input, lag: 2, horizon: 1, directory.Directory);

        bed.Produce(input);
        using (bed.StartInProcess(KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1), "w1"))
        {
            bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(90));
        }

        Assert.True(fromCli.ContainsKey(bed.Options.AnomalyTopic), "the workload should raise some alerts");
        OutputAssert.ExactlyOnce(bed, fromCli);
    }
}
