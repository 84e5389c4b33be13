using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// An immutable named tensor: a shape, an element type and the elements as little-endian bytes in row-major
/// (C) order, as PyTorch's <c>state_dict</c> and the safetensors format hold them.
/// </summary>
public sealed class NamedTensor
{
    private readonly int[] shape;
    private readonly byte[] data;

    private NamedTensor(string name, TensorDataType dataType, int[] shape, byte[] data)
    {
        Name = name;
        DataType = dataType;
        this.shape = shape;
        this.data = data;
    }

    /// <summary>Gets the tensor's name, e.g. <c>weight_ih_l0</c> or <c>head.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Gets the element type of the stored bytes.</summary>
    public TensorDataType DataType { get; }

    /// <summary>Gets the dimensions, outermost first. A scalar has an empty shape.</summary>
    public IReadOnlyList<int> Shape => shape;

    /// <summary>Gets the number of elements (the product of the dimensions).</summary>
    public long ElementCount => CountElements(shape);

    /// <summary>Gets the stored elements as little-endian bytes in row-major order.</summary>
    public ReadOnlySpan<byte> RawData => data;

    /// <summary>Creates a tensor from values; <see cref="float"/> is stored as F32, <see cref="double"/> as F64,
    /// <see cref="Half"/> as F16 and the integer types as their safetensors counterparts.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="name">The tensor's name.</param>
    /// <param name="shape">The dimensions; their product must equal the number of values.</param>
    /// <param name="values">The elements in row-major order.</param>
    /// <returns>The new tensor, holding a copy of the values.</returns>
    public static NamedTensor Create<T>(string name, ReadOnlySpan<int> shape, ReadOnlySpan<T> values)
        where T : unmanaged, INumberBase<T>
    {
        var type = DataTypeOf<T>();
        var dims = ValidateShape(name, shape);
        if (CountElements(dims) != values.Length)
        {
            throw new ArgumentException(
                $"Tensor '{name}': shape {FormatShape(dims)} holds {CountElements(dims)} elements but {values.Length} values were given.",
                nameof(values));
        }

        var bytes = MemoryMarshal.AsBytes(values).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            ReverseEachElement(bytes, TensorDataTypes.SizeOf(type));
        }

        return new NamedTensor(name, type, dims, bytes);
    }

    /// <summary>Creates a tensor from little-endian element bytes of any supported type (e.g. BF16 data).</summary>
    /// <param name="name">The tensor's name.</param>
    /// <param name="dataType">The element type of <paramref name="data"/>.</param>
    /// <param name="shape">The dimensions.</param>
    /// <param name="data">The elements as little-endian bytes in row-major order.</param>
    /// <returns>The new tensor, holding a copy of the bytes.</returns>
    public static NamedTensor FromRawData(string name, TensorDataType dataType, ReadOnlySpan<int> shape, ReadOnlySpan<byte> data)
    {
        var dims = ValidateShape(name, shape);
        var expected = CountElements(dims) * TensorDataTypes.SizeOf(dataType);
        if (expected != data.Length)
        {
            throw new ArgumentException(
                $"Tensor '{name}': shape {FormatShape(dims)} of {dataType} needs {expected} bytes but {data.Length} were given.",
                nameof(data));
        }

        return new NamedTensor(name, dataType, dims, data.ToArray());
    }

    /// <summary>Converts the elements to <typeparamref name="T"/> (rounding to nearest when narrowing) and writes
    /// them to <paramref name="destination"/>.</summary>
    /// <typeparam name="T">The destination element type.</typeparam>
    /// <param name="destination">Receives <see cref="ElementCount"/> values.</param>
    /// <exception cref="ArgumentException">The destination length differs from the element count.</exception>
    public void CopyTo<T>(Span<T> destination)
        where T : INumberBase<T>
    {
        if (destination.Length != ElementCount)
        {
            throw new ArgumentException(
                $"Tensor '{Name}' has {ElementCount} elements; the destination holds {destination.Length}.",
                nameof(destination));
        }

        ReadOnlySpan<byte> bytes = data;
        var size = TensorDataTypes.SizeOf(DataType);
        for (var k = 0; k < destination.Length; k++)
        {
            var e = bytes.Slice(k * size, size);
            destination[k] = DataType switch
            {
                TensorDataType.Float32 => T.CreateChecked(BinaryPrimitives.ReadSingleLittleEndian(e)),
                TensorDataType.Float64 => T.CreateChecked(BinaryPrimitives.ReadDoubleLittleEndian(e)),
                TensorDataType.Float16 => T.CreateChecked((float)BinaryPrimitives.ReadHalfLittleEndian(e)),
                TensorDataType.BFloat16 => T.CreateChecked(BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(e) << 16)),
                TensorDataType.Int8 => T.CreateChecked(unchecked((sbyte)e[0])),
                TensorDataType.UInt8 => T.CreateChecked(e[0]),
                TensorDataType.Bool => e[0] != 0 ? T.One : T.Zero,
                TensorDataType.Int16 => T.CreateChecked(BinaryPrimitives.ReadInt16LittleEndian(e)),
                TensorDataType.Int32 => T.CreateChecked(BinaryPrimitives.ReadInt32LittleEndian(e)),
                TensorDataType.Int64 => T.CreateChecked(BinaryPrimitives.ReadInt64LittleEndian(e)),
                _ => throw new InvalidOperationException($"Tensor '{Name}': unsupported data type {DataType}."),
            };
        }
    }

    /// <summary>Returns the elements converted to <typeparamref name="T"/> in row-major order.</summary>
    /// <typeparam name="T">The element type wanted.</typeparam>
    /// <returns>A new array of <see cref="ElementCount"/> values.</returns>
    public T[] ToArray<T>()
        where T : INumberBase<T>
    {
        var values = new T[ElementCount];
        CopyTo<T>(values);
        return values;
    }

    /// <summary>Returns whether the tensor's dimensions equal <paramref name="expected"/>.</summary>
    /// <param name="expected">The dimensions wanted.</param>
    /// <returns><see langword="true"/> when the shapes are equal.</returns>
    public bool HasShape(ReadOnlySpan<int> expected) => expected.SequenceEqual(shape);

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {DataType} {FormatShape(shape)}";

    internal static string FormatShape(ReadOnlySpan<int> dims)
    {
        var parts = new string[dims.Length];
        for (var k = 0; k < dims.Length; k++)
        {
            parts[k] = dims[k].ToString(CultureInfo.InvariantCulture);
        }

        return "[" + string.Join(", ", parts) + "]";
    }

    internal static long CountElements(ReadOnlySpan<int> dims)
    {
        long n = 1;
        foreach (var d in dims)
        {
            n = checked(n * d);
        }

        return n;
    }

    private static int[] ValidateShape(string name, ReadOnlySpan<int> shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        foreach (var d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Tensor '{name}': negative dimension in shape {FormatShape(shape)}.", nameof(shape));
            }
        }

        return shape.ToArray();
    }

    private static TensorDataType DataTypeOf<T>()
    {
        if (typeof(T) == typeof(float)) return TensorDataType.Float32;
        if (typeof(T) == typeof(double)) return TensorDataType.Float64;
        if (typeof(T) == typeof(Half)) return TensorDataType.Float16;
        if (typeof(T) == typeof(sbyte)) return TensorDataType.Int8;
        if (typeof(T) == typeof(byte)) return TensorDataType.UInt8;
        if (typeof(T) == typeof(short)) return TensorDataType.Int16;
        if (typeof(T) == typeof(int)) return TensorDataType.Int32;
        if (typeof(T) == typeof(long)) return TensorDataType.Int64;
        throw new NotSupportedException($"Element type {typeof(T).Name} has no safetensors data type.");
    }

    private static void ReverseEachElement(byte[] bytes, int size)
    {
        for (var k = 0; k < bytes.Length; k += size)
        {
            bytes.AsSpan(k, size).Reverse();
        }
    }
}
