namespace StreamSeq.Estimation.Recurrent;

/// <summary>Element type of a stored tensor, as named by the safetensors format.</summary>
public enum TensorDataType
{
    /// <summary>IEEE 754 binary16 (<c>F16</c>).</summary>
    Float16,

    /// <summary>bfloat16: the upper 16 bits of a binary32 (<c>BF16</c>).</summary>
    BFloat16,

    /// <summary>IEEE 754 binary32 (<c>F32</c>).</summary>
    Float32,

    /// <summary>IEEE 754 binary64 (<c>F64</c>).</summary>
    Float64,

    /// <summary>Signed 8-bit integer (<c>I8</c>).</summary>
    Int8,

    /// <summary>Unsigned 8-bit integer (<c>U8</c>).</summary>
    UInt8,

    /// <summary>Signed 16-bit integer (<c>I16</c>).</summary>
    Int16,

    /// <summary>Signed 32-bit integer (<c>I32</c>).</summary>
    Int32,

    /// <summary>Signed 64-bit integer (<c>I64</c>).</summary>
    Int64,

    /// <summary>Boolean stored as one byte (<c>BOOL</c>).</summary>
    Bool,
}
