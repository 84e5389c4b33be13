namespace StreamSeq.Estimation.Recurrent;

/// <summary>Sizes and safetensors names of <see cref="TensorDataType"/> values.</summary>
internal static class TensorDataTypes
{
    public static int SizeOf(TensorDataType type) => type switch
    {
        TensorDataType.Float16 or TensorDataType.BFloat16 or TensorDataType.Int16 => 2,
        TensorDataType.Float32 or TensorDataType.Int32 => 4,
        TensorDataType.Float64 or TensorDataType.Int64 => 8,
        TensorDataType.Int8 or TensorDataType.UInt8 or TensorDataType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown tensor data type."),
    };

    public static string ToSafeTensorsName(TensorDataType type) => type switch
    {
        TensorDataType.Float16 => "F16",
        TensorDataType.BFloat16 => "BF16",
        TensorDataType.Float32 => "F32",
        TensorDataType.Float64 => "F64",
        TensorDataType.Int8 => "I8",
        TensorDataType.UInt8 => "U8",
        TensorDataType.Int16 => "I16",
        TensorDataType.Int32 => "I32",
        TensorDataType.Int64 => "I64",
        TensorDataType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown tensor data type."),
    };

    public static bool TryParseSafeTensorsName(string name, out TensorDataType type)
    {
        switch (name)
        {
            case "F16": type = TensorDataType.Float16; return true;
            case "BF16": type = TensorDataType.BFloat16; return true;
            case "F32": type = TensorDataType.Float32; return true;
            case "F64": type = TensorDataType.Float64; return true;
            case "I8": type = TensorDataType.Int8; return true;
            case "U8": type = TensorDataType.UInt8; return true;
            case "I16": type = TensorDataType.Int16; return true;
            case "I32": type = TensorDataType.Int32; return true;
            case "I64": type = TensorDataType.Int64; return true;
            case "BOOL": type = TensorDataType.Bool; return true;
            default: type = default; return false;
        }
    }
}
