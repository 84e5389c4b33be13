using System.Text;
using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Estimation.Tests.Recurrent;

public sealed class WeightLoadingTests
{
    [Fact]
    public void Read_ShapeOfManyElementsWithFewValues_FailsNamingTheTensorWithoutAllocatingTheShape()
    {
        // 56 bytes that declare 10^8 elements (800 MB as F64) but hold one value.
        const string json = """{"tensors":{"w":{"shape":[10000,10000],"values":[[1]]}}}""";
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<InvalidDataException>(() => TorchJsonFormat.Read(new MemoryStream(Encoding.UTF8.GetBytes(json))));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("tensor 'w' values do not match shape", ex.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1 << 20, $"reading a 56-byte document allocated {allocated:N0} bytes");
    }

    [Fact]
    public void ReadFile_OracleLstmDump_HasPyTorchNamesAndShapes()
    {
        var w = RnnFixtures.Weights("lstm");
        Assert.Equal([32, 3], w["weight_ih_l0"].Shape);
        Assert.Equal([32, 8], w["weight_hh_l1"].Shape);
        Assert.Equal([2, 8], w["head.weight"].Shape);
        Assert.Equal(TensorDataType.Float64, w["bias_ih_l0"].DataType);
        Assert.Equal(-0.0026469905860722065, w["weight_ih_l0"].ToArray<double>()[0]);
    }

    [Fact]
    public void LstmNetwork_MissingTensor_FailsNamingTensorAndShape()
    {
        var w = RnnFixtures.Weights("lstm");
        var without = new StateDictionary(w.Tensors.Where(t => t.Name != "weight_hh_l1"), source: "model.safetensors");
        var ex = Assert.Throws<InvalidDataException>(() => new LstmNetwork<double>(without, 3, 8, 2));
        Assert.Contains("'weight_hh_l1'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("[32, 8]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("model.safetensors", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LstmNetwork_MisshapedTensor_FailsNamingBothShapes()
    {
        var w = RnnFixtures.Weights("lstm");
        var bad = w.Tensors.Select(t => t.Name == "bias_ih_l0" ? NamedTensor.Create<double>("bias_ih_l0", [31], new double[31]) : t);
        var ex = Assert.Throws<InvalidDataException>(() => new LstmNetwork<float>(new StateDictionary(bad), 3, 8, 2));
        Assert.Contains("'bias_ih_l0'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("[31]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("expected shape [32]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LstmNetwork_WrongHiddenSize_FailsAtLoad()
    {
        var ex = Assert.Throws<InvalidDataException>(() => new LstmNetwork<double>(RnnFixtures.Weights("lstm"), 3, 16, 2));
        Assert.Contains("'weight_ih_l0'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("[64, 3]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GruNetwork_ThreeLayersRequested_FailsOnMissingSecondLayer()
    {
        var ex = Assert.Throws<InvalidDataException>(() => new GruNetwork<double>(RnnFixtures.Weights("gru"), 3, 8, 3));
        Assert.Contains("'weight_ih_l1'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("[24, 8]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PeepholeLstmNetwork_MissingPeepholes_FailsNamingThem()
    {
        var ex = Assert.Throws<InvalidDataException>(() => new PeepholeLstmNetwork<double>(RnnFixtures.Weights("lstm"), 3, 8, 2));
        Assert.Contains("'peephole_i_l0'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("[8]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LinearHead_MissingBias_FailsNamingIt()
    {
        var w = new StateDictionary(RnnFixtures.Weights("gru").Tensors.Where(t => t.Name != "head.bias"));
        var ex = Assert.Throws<InvalidDataException>(() => new LinearHead<double>(w, 8, 2));
        Assert.Contains("'head.bias'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("[2]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TorchJsonRead_ValuesNotMatchingShape_FailsNamingTensor()
    {
        const string json = "{\"tensors\":{\"w\":{\"shape\":[2,2],\"values\":[[1,2],[3]]}}}";
        var ex = Assert.Throws<InvalidDataException>(() => TorchJsonFormat.Read(new MemoryStream(Encoding.UTF8.GetBytes(json))));
        Assert.Contains("'w'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 2]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TorchJsonRead_NonFiniteStrings_AreParsed()
    {
        const string json = "{\"tensors\":{\"w\":{\"shape\":[3],\"values\":[\"NaN\",\"Infinity\",\"-Infinity\"]}}}";
        var values = TorchJsonFormat.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)))["w"].ToArray<double>();
        Assert.True(double.IsNaN(values[0]));
        Assert.Equal(double.PositiveInfinity, values[1]);
        Assert.Equal(double.NegativeInfinity, values[2]);
    }

    [Fact]
    public void StateDictionary_DuplicateNames_Rejected()
    {
        var t = NamedTensor.Create<float>("a", [1], [1f]);
        Assert.Throws<ArgumentException>(() => new StateDictionary([t, t]));
    }

    [Fact]
    public void Step_WrongSpanLengths_Throw()
    {
        var network = new GruNetwork<double>(RnnFixtures.Weights("gru"), 3, 8);
        Assert.Throws<ArgumentException>(() => network.Step(new double[2], new double[8]));
        Assert.Throws<ArgumentException>(() => network.Step(new double[3], new double[9]));
        Assert.Throws<ArgumentException>(() => network.StepBatch(2, new double[6], new double[8]));
        Assert.Throws<InvalidOperationException>(() => network.GetCellOffset(0));
    }
}
