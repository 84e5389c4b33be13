using System.Buffers.Binary;
using System.Text;
using CsCheck;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Recurrent;
using StreamSeq.Estimation.Specs;
using StreamSeq.Testing;

namespace StreamSeq.Estimation.Tests.Fuzz;

/// <summary>
/// Near-valid model specs, durations and weight files (<see cref="HostileMutations"/>): each is read or refused with
/// the documented exception (<see cref="ModelValidationException"/> for specs and durations, <see
/// cref="InvalidDataException"/> for weights); no other exception escapes. The iteration counts keep each test to a
/// few seconds; set <c>CsCheck_Time</c> (seconds per property) for a longer campaign.
/// </summary>
public sealed class EstimationParserFuzzTests
{
    private static readonly string[] Specs =
    [
        """{"name":"nile","kind":"linear-gaussian","components":[{"type":"local-level","levelNoise":1469.1}],"observationNoise":[[15099]],"initialMean":[1120],"initialCovariance":[[1e7]],"timeUnit":"P1Y"}""",
        """{"name":"m","kind":"linear-gaussian","transition":[[1,1],[0,1]],"transitionNoise":[[0.1,0],[0,0.01]],"observation":[[1,0]],"observationNoise":[[1]],"initialMean":[0,0],"initialCovariance":[[10,0],[0,10]],"forecastStep":1}""",
        """{"name":"h","kind":"hmm","states":2,"transition":[[0.9,0.1],[0.2,0.8]],"initial":[0.5,0.5],"emission":{"type":"gaussian","means":[[0],[5]],"covariances":[[[1]],[[1]]]}}""",
        """{"name":"p","kind":"particle","seed":7,"particles":100,"timeUnit":"PT1M"}""",
        """{"name":"a","kind":"anomaly-detector","anomalyRules":[{"type":"nis","threshold":9.2}],"adapt":["observationNoise"]}""",
    ];

    [Fact]
    public void ModelSpec_NearValidSpecs_BuildOrFailWithAValidationError()
    {
        var examples = Directory.GetFiles(RepositoryFiles.Path("examples"), "*.json").Select(File.ReadAllText).Where(t => t.Length < 20_000);
        HostileMutations.TextOf([.. Specs, .. examples]).Sample(
            text =>
            {
                try
                {
                    ModelCatalog.Build(ModelSpec.Parse(text, "m.json", RepositoryFiles.Path("examples")));
                }
                catch (ModelValidationException e)
                {
                    Assert.False(string.IsNullOrWhiteSpace(e.Message));
                }
            },
            iter: 1000,
            threads: 1);
    }

    [Fact]
    public void ParseDuration_HostileText_IsAPositiveOrZeroSpanOrAValidationErrorNamingTheField()
    {
        HostileMutations.TextOf("PT1M", "P1D", "P1Y2M3DT4H5M6.5S", "00:01:00", "1.02:03:04.5", "250ms", "1s", "5m", "1h", "1d", "1.5h").Sample(
            text =>
            {
                try
                {
                    ModelSpec.ParseDuration("timeUnit", text);
                }
                catch (ModelValidationException e)
                {
                    Assert.Equal("timeUnit", e.Field);
                }
            },
            iter: 5000,
            threads: 1);
    }

    [Fact]
    public void SafeTensors_NearValidFiles_ReadOrFailWithInvalidData()
    {
        const string header = """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F64","shape":[1],"data_offsets":[16,24]},"__metadata__":{"format":"pt"}}""";
        Gen.Select(HostileMutations.Of(header), Gen.Int[0, 3], Gen.Long, Gen.Byte.Array[0, 64]).Sample(
            (h, lengthHow, anyLength, data) =>
            {
                var length = lengthHow switch { 0 => anyLength, 1 => h.Length + 1, _ => h.Length };
                var file = new byte[8 + h.Length + data.Length];
                BinaryPrimitives.WriteInt64LittleEndian(file, length);
                h.CopyTo(file, 8);
                data.CopyTo(file, 8 + h.Length);
                try
                {
                    SafeTensorsFormat.Read(new MemoryStream(file), "w.safetensors");
                }
                catch (InvalidDataException e)
                {
                    Assert.Contains("w.safetensors", e.Message, StringComparison.Ordinal);
                }
            },
            iter: 2000,
            threads: 1);
    }

    [Fact]
    public void TorchJson_NearValidFiles_ReadOrFailWithInvalidData()
    {
        HostileMutations.Of("""{"tensors":{"w":{"shape":[2,2],"values":[[1,2],[3,4]]},"b":{"shape":[2],"values":[0.5,"NaN"]},"s":{"shape":[],"values":3}}}""").Sample(
            bytes =>
            {
                try
                {
                    TorchJsonFormat.Read(new MemoryStream(bytes), "w.json");
                }
                catch (InvalidDataException e)
                {
                    Assert.Contains("w.json", e.Message, StringComparison.Ordinal);
                }
            },
            iter: 2000,
            threads: 1);
    }
}
