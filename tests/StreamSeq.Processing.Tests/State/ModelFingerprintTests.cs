using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;
using StreamSeq.Testing;

namespace StreamSeq.Processing.Tests.State;

public sealed class ModelFingerprintTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-fp-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Fingerprint_RetrainedWeightsUnderTheSameSpec_Changes()
    {
        foreach (var name in new[] { "recurrent-nar.json", "recurrent-nar.safetensors" })
        {
            File.Copy(RepositoryFiles.Path("examples", name), Path.Combine(dir, name));
        }

        var spec = Path.Combine(dir, "recurrent-nar.json");
        var before = ModelBindingFactory.FromSpec(ModelSpec.Load(spec)).Fingerprint;
        Assert.Equal(before, ModelBindingFactory.FromSpec(ModelSpec.Load(spec)).Fingerprint);

        // Flip one bit of the last tensor byte (still a valid file): the states of the old weights must not be restored.
        var weights = Path.Combine(dir, "recurrent-nar.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[^1] ^= 1;
        File.WriteAllBytes(weights, bytes);
        Assert.NotEqual(before, ModelBindingFactory.FromSpec(ModelSpec.Load(spec)).Fingerprint);
    }
}
