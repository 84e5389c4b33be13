using System.Text;
using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Benchmarks.Recurrent;

/// <summary>
/// Writes a one-layer LSTM as an ONNX graph (opset 17) with the interface the exported oracle models have:
/// x [batch, seq, input] → Transpose → LSTM(W, R, B, h0, c0) → (hn, cn), so ONNX Runtime and the managed engine can
/// be timed on exactly the same weights. Encodes the few protobuf messages it needs by hand.
/// </summary>
internal static class OnnxLstmGraph
{
    // ONNX orders the LSTM gate blocks i, o, f, c; PyTorch orders them i, f, g(c), o.
    private static readonly int[] OnnxFromTorch = [0, 3, 1, 2];

    public static byte[] Build(StateDictionary weights, int inputSize, int hidden)
    {
        var wih = weights.GetValues<float>("weight_ih_l0", 4 * hidden, inputSize);
        var whh = weights.GetValues<float>("weight_hh_l0", 4 * hidden, hidden);
        var bih = weights.GetValues<float>("bias_ih_l0", 4 * hidden);
        var bhh = weights.GetValues<float>("bias_hh_l0", 4 * hidden);
        var w = Reorder(wih, hidden, inputSize);
        var r = Reorder(whh, hidden, hidden);
        var b = Reorder(bih, hidden, 1).Concat(Reorder(bhh, hidden, 1)).ToArray();

        var graph = new Proto();
        graph.Message(1, Node("transpose", "Transpose", ["x"], ["xt"], n => n.Message(5, Attribute("perm", 7, a => { a.Varint(8, 1); a.Varint(8, 0); a.Varint(8, 2); }))));
        graph.Message(1, Node("lstm", "LSTM", ["xt", "W", "R", "B", string.Empty, "h0", "c0"], [string.Empty, "hn", "cn"], n => n.Message(5, Attribute("hidden_size", 2, a => a.Varint(3, (ulong)hidden)))));
        graph.String(2, "lstm_h" + hidden);
        graph.Message(5, Tensor("W", [1, 4 * hidden, inputSize], w));
        graph.Message(5, Tensor("R", [1, 4 * hidden, hidden], r));
        graph.Message(5, Tensor("B", [1, 8 * hidden], b));
        graph.Message(11, Value("x", ["batch", "seq", inputSize]));
        graph.Message(11, Value("h0", [1, "batch", hidden]));
        graph.Message(11, Value("c0", [1, "batch", hidden]));
        graph.Message(12, Value("hn", [1, "batch", hidden]));
        graph.Message(12, Value("cn", [1, "batch", hidden]));

        var model = new Proto();
        model.Varint(1, 8);
        model.String(2, "StreamSeq.Benchmarks");
        model.Message(7, graph);
        var opset = new Proto();
        opset.String(1, string.Empty);
        opset.Varint(2, 17);
        model.Message(8, opset);
        return model.ToArray();
    }

    private static float[] Reorder(float[] torch, int hidden, int columns)
    {
        var result = new float[torch.Length];
        for (var block = 0; block < 4; block++)
        {
            Array.Copy(torch, OnnxFromTorch[block] * hidden * columns, result, block * hidden * columns, hidden * columns);
        }

        return result;
    }

    private static Proto Node(string name, string op, string[] inputs, string[] outputs, Action<Proto> attributes)
    {
        var n = new Proto();
        foreach (var i in inputs)
        {
            n.String(1, i);
        }

        foreach (var o in outputs)
        {
            n.String(2, o);
        }

        n.String(3, name);
        n.String(4, op);
        attributes(n);
        return n;
    }

    private static Proto Attribute(string name, ulong type, Action<Proto> value)
    {
        var a = new Proto();
        a.String(1, name);
        value(a);
        a.Varint(20, type);
        return a;
    }

    private static Proto Tensor(string name, long[] dims, float[] values)
    {
        var t = new Proto();
        foreach (var d in dims)
        {
            t.Varint(1, (ulong)d);
        }

        t.Varint(2, 1); // FLOAT
        t.String(8, name);
        var raw = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        t.Bytes(9, raw);
        return t;
    }

    private static Proto Value(string name, object[] dims)
    {
        var shape = new Proto();
        foreach (var d in dims)
        {
            var dim = new Proto();
            if (d is int v)
            {
                dim.Varint(1, (ulong)v);
            }
            else
            {
                dim.String(2, (string)d);
            }

            shape.Message(1, dim);
        }

        var tensorType = new Proto();
        tensorType.Varint(1, 1); // FLOAT
        tensorType.Message(2, shape);
        var type = new Proto();
        type.Message(1, tensorType);
        var value = new Proto();
        value.String(1, name);
        value.Message(2, type);
        return value;
    }

    private sealed class Proto
    {
        private readonly MemoryStream buffer = new();

        public void Varint(int field, ulong value)
        {
            Raw(((ulong)field << 3) | 0);
            Raw(value);
        }

        public void Bytes(int field, byte[] value)
        {
            Raw(((ulong)field << 3) | 2);
            Raw((ulong)value.Length);
            buffer.Write(value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, Proto message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => buffer.ToArray();

        private void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                buffer.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            buffer.WriteByte((byte)value);
        }
    }
}
