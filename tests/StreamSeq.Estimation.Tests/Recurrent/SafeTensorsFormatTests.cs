using System.Buffers.Binary;
using System.Text;
using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Estimation.Tests.Recurrent;

public sealed class SafeTensorsFormatTests
{
    [Fact]
    public void WriteThenRead_MixedDataTypes_RoundTripsBitExactly()
    {
        var random = new Random(1);
        var f32 = Enumerable.Range(0, 12).Select(_ => (float)random.NextDouble()).ToArray();
        f32[3] = float.NaN;
        f32[4] = BitConverter.Int32BitsToSingle(0x7FC0_1234); // NaN with a payload
        f32[5] = -0.0f;
        var f64 = Enumerable.Range(0, 6).Select(_ => random.NextDouble() - 0.5).Append(double.Epsilon).ToArray();
        var f16 = new[] { (Half)1.5, (Half)(-2.25), Half.MaxValue };
        var bf16Bytes = new byte[] { 0x80, 0x3F, 0x00, 0xC0 };
        var original = new StateDictionary(
            [
                NamedTensor.Create<float>("weight_ih_l0", [4, 3], f32),
                NamedTensor.Create<double>("head.bias", [7], f64),
                NamedTensor.Create<Half>("half", [3], f16),
                NamedTensor.FromRawData("bf", TensorDataType.BFloat16, [2], bf16Bytes),
                NamedTensor.Create<long>("steps", [], [42L]),
            ],
            new Dictionary<string, string> { ["format"] = "pt", ["note"] = "round trip" });

        using var first = new MemoryStream();
        SafeTensorsFormat.Write(first, original);
        first.Position = 0;
        var read = SafeTensorsFormat.Read(first);

        Assert.Equal(original.Tensors.Select(t => t.Name), read.Tensors.Select(t => t.Name));
        foreach (var t in original.Tensors)
        {
            var r = read[t.Name];
            Assert.Equal(t.DataType, r.DataType);
            Assert.Equal(t.Shape, r.Shape);
            Assert.True(t.RawData.SequenceEqual(r.RawData), $"bytes of {t.Name} differ");
        }

        Assert.Equal(original.Metadata, read.Metadata);
        Assert.Equal(
            f32.Select(BitConverter.SingleToInt32Bits),
            read["weight_ih_l0"].ToArray<float>().Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(f64, read["head.bias"].ToArray<double>());

        using var second = new MemoryStream();
        SafeTensorsFormat.Write(second, read);
        Assert.Equal(first.ToArray(), second.ToArray());
    }

    [Fact]
    public void Write_AnyContent_PadsHeaderToEightBytes()
    {
        var dict = new StateDictionary([NamedTensor.Create<float>("a", [1], [1f])]);
        using var stream = new MemoryStream();
        SafeTensorsFormat.Write(stream, dict);
        var bytes = stream.ToArray();
        var n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        Assert.Equal(8 + n + 4, bytes.Length);
        Assert.Equal((byte)'{', bytes[8]);
    }

    [Fact]
    public void Read_HandBuiltFile_DecodesEveryFloatType()
    {
        // Built by hand from the format description, independently of the writer.
        var data = new List<byte>();
        var f32 = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(f32, 0.1f);
        BinaryPrimitives.WriteSingleLittleEndian(f32.AsSpan(4), -3f);
        data.AddRange(f32);
        var f64 = new byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(f64, Math.PI);
        data.AddRange(f64);
        data.AddRange(new byte[] { 0x00, 0x3C, 0x55, 0x35 });   // F16: 1.0, 0.333251953125
        data.AddRange(new byte[] { 0x80, 0x3F, 0x49, 0x40 });   // BF16: 1.0, 3.140625
        var header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F64\",\"shape\":[1,1],\"data_offsets\":[8,16]},"
            + "\"__metadata__\":{\"k\":\"v\"},"
            + "\"c\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[16,20]},"
            + "\"d\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[20,24]}}";
        var read = SafeTensorsFormat.Read(new MemoryStream(Assemble(header, data.ToArray())));

        Assert.Equal([0.1f, -3f], read["a"].ToArray<float>());
        Assert.Equal([(double)0.1f, -3.0], read["a"].ToArray<double>());
        Assert.Equal([Math.PI], read["b"].ToArray<double>());
        Assert.Equal([1, 1], read["b"].Shape);
        Assert.Equal([1.0, 0.333251953125], read["c"].ToArray<double>());
        Assert.Equal([1.0, 3.140625], read["d"].ToArray<double>());
        Assert.Equal("v", read.Metadata["k"]);
    }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "'a'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "cover 4 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "hole")]
    [InlineData("{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", "unsupported dtype 'Q4'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "outside")]
    [InlineData("[1,2]", "not a JSON object")]
    [InlineData("{\"a\":", "not valid JSON")]
    public void Read_InvalidHeader_FailsNamingTheProblem(string header, string expectedFragment)
    {
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensorsFormat.Read(new MemoryStream(Assemble(header, new byte[8]))));
        Assert.Contains(expectedFragment, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TruncatedContent_Fails()
    {
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensorsFormat.Read(new MemoryStream([1, 2, 3])));
        Assert.Contains("8-byte header length", ex.Message, StringComparison.Ordinal);
        var bytes = new byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 100);
        ex = Assert.Throws<InvalidDataException>(() => SafeTensorsFormat.Read(new MemoryStream(bytes)));
        Assert.Contains("past the end", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LstmNetwork_LoadedThroughSafeTensorsFloat32_MatchesJsonLoadedNetwork()
    {
        var json = RnnFixtures.Weights("lstm");
        var asF32 = new StateDictionary(json.Tensors.Select(t => NamedTensor.Create<float>(t.Name, t.Shape.ToArray(), t.ToArray<float>())));
        var path = Path.Combine(Path.GetTempPath(), $"streamseq-lstm-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensorsFormat.WriteFile(path, asF32);
            var loaded = SafeTensorsFormat.ReadFile(path);
            Assert.Equal(path, loaded.Source);
            var a = new LstmNetwork<double>(json, 3, 8, 2);
            var b = new LstmNetwork<double>(loaded, 3, 8, 2);
            var sa = new double[a.StateLength];
            var sb = new double[b.StateLength];
            foreach (var x in RnnFixtures.Inputs()[0])
            {
                a.Step(x, sa);
                b.Step(x, sb);
            }

            // The JSON values are float32 values written exactly, so F32 storage loses nothing.
            Assert.Equal(sa, sb);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static byte[] Assemble(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + h.Length);
        return bytes;
    }

    /// <summary>
    /// Found by fuzzing (EstimationParserFuzzTests, seeds 90hQrqq6Gub1 and aNUKHMpLrM_1): a header or JSON weights file
    /// with bytes that are not UTF-8 inside a string, or an unpaired surrogate escape, made the JSON library's
    /// InvalidOperationException escape instead of the documented InvalidDataException.
    /// </summary>
    [Theory]
    [InlineData(new byte[] { 0xC3, 0x28 }, "w.dtype")]
    [InlineData(new byte[] { 0x5C, 0x75, 0x64, 0x38, 0x30, 0x30 }, "w.dtype")]
    public void Read_StringThatIsNotUnicodeText_IsInvalidDataNamingIt(byte[] bad, string named)
    {
        byte[] header = [.. "{\"w\":{\"dtype\":\"F"u8, .. bad, .. "\",\"shape\":[1],\"data_offsets\":[0,4]}}"u8];
        byte[] file = [.. BitConverter.GetBytes((long)header.Length), .. header, 0, 0, 0, 0];

        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFormat.Read(new MemoryStream(file), "w.safetensors"));
        Assert.Contains($"w.safetensors': in the header, {named} is not Unicode text", e.Message, StringComparison.Ordinal);

        byte[] json = [.. "{\"tensors\":{\"w\":{\"shape\":[1],\"values\":[\"N"u8, .. bad, .. "\"]}}}"u8];
        e = Assert.Throws<InvalidDataException>(() => TorchJsonFormat.Read(new MemoryStream(json), "w.json"));
        Assert.Contains("w.json': tensors.w.values[0] is not Unicode text", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Found by fuzzing (EstimationParserFuzzTests, seed 7QOT_pybRNO1): a tensor with an empty name, a name given twice
    /// or a shape too large to hold let NamedTensor's or StateDictionary's ArgumentException (or an overflow) escape
    /// instead of the documented InvalidDataException.
    /// </summary>
    [Theory]
    [InlineData("""{"tensors":{"":{"shape":[1],"values":[1]}}}""", "a tensor has an empty name")]
    [InlineData("""{"tensors":{"w":{"shape":[1],"values":[1]},"w":{"shape":[1],"values":[2]}}}""", "'w' appears twice")]
    [InlineData("""{"tensors":{"w":{"shape":[2147483647,2147483647,2147483647],"values":[1]}}}""", "too large to hold")]
    [InlineData("""{"tensors":{"w":{"shape":[2147483647,2],"values":[1]}}}""", "too large to hold")]
    public void Read_BadTensorNamesOrShapes_AreInvalidData(string json, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => TorchJsonFormat.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), "w.json"));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);

        if (!json.Contains("214748", StringComparison.Ordinal))
        {
            var header = json.Replace("\"shape\":[1],\"values\":[1]", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]", StringComparison.Ordinal)
                .Replace("\"shape\":[1],\"values\":[2]", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]", StringComparison.Ordinal)
                .Replace("{\"tensors\":", string.Empty, StringComparison.Ordinal)[..^1];
            var bytes = Encoding.UTF8.GetBytes(header);
            byte[] file = [.. BitConverter.GetBytes((long)bytes.Length), .. bytes, .. new byte[8]];
            e = Assert.Throws<InvalidDataException>(() => SafeTensorsFormat.Read(new MemoryStream(file), "w.safetensors"));
            Assert.Contains("w.safetensors", e.Message, StringComparison.Ordinal);
        }
    }
}
