using System.Text;
using CsCheck;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Tests.Specs;

public sealed class Utf8TextTests
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    [Theory]
    [InlineData(new byte[] { 0x61, 0xE9, 0x62 }, 1, "0xE9 at byte 2 is not UTF-8")] // Latin-1 'é'
    [InlineData(new byte[] { 0x61, 0x62, 0xC3 }, 2, "0xC3 at byte 3 is not UTF-8")] // a sequence cut short at the end
    [InlineData(new byte[] { 0xC0, 0xAF }, 0, "0xC0 at byte 1 is not UTF-8")] // an overlong '/'
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, 0, "0xED at byte 1 is not UTF-8")] // a UTF-16 surrogate
    public void FirstInvalidAndProblem_TextThatIsNotUtf8_NameTheFirstByteThatIsNot(byte[] text, int at, string problem)
    {
        Assert.Equal(at, Utf8Text.FirstInvalid(text));
        Assert.Equal(problem, Utf8Text.Problem(text));
        Assert.Equal(problem.Replace($"byte {at + 1}", $"byte {at + 4}", StringComparison.Ordinal), Utf8Text.Problem(text, offset: 3));
    }

    [Fact]
    public void FirstInvalid_AnyBytes_IsWhereAStrictDecoderFirstFails()
    {
        // Against .NET's strict decoder: -1 exactly when it decodes everything, otherwise the position it reports.
        Gen.Byte.Array[0, 40].Sample(bytes =>
        {
            int expected;
            try
            {
                _ = Strict.GetString(bytes);
                expected = -1;
            }
            catch (DecoderFallbackException e)
            {
                expected = e.Index;
            }

            Assert.Equal(expected, Utf8Text.FirstInvalid(bytes));
            Assert.Equal(expected < 0, Utf8Text.Problem(bytes) is null);
        });
    }

    [Fact]
    public void Problem_Utf8TextWithAByteOrderMark_IsNone()
    {
        Assert.Null(Utf8Text.Problem([.. Utf8Text.ByteOrderMark, .. "capteur-température"u8]));
        Assert.Equal(-1, Utf8Text.FirstInvalid([]));
    }
}
