using CsCheck;

namespace StreamSeq.Kafka.Tests;

/// <summary>Kafka's topic-name rule, checked before a client or the broker sees the name.</summary>
public sealed class KafkaTopicNameTests
{
    private const string Legal = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";

    [Theory]
    [InlineData("streamseq.readings")]
    [InlineData("a")]
    [InlineData("...")]
    [InlineData("_internal-Topic.v2")]
    public void Problem_ValidName_IsNull(string name) => Assert.Null(KafkaTopicName.Problem(name));

    [Fact]
    public void Problem_NameOfTheLongestLength_IsNull() => Assert.Null(KafkaTopicName.Problem(new string('t', KafkaTopicName.MaxLength)));

    [Theory]
    [InlineData(null, "a topic name must not be empty.")]
    [InlineData("", "a topic name must not be empty.")]
    [InlineData(".", "'.' is not a valid topic name.")]
    [InlineData("..", "'..' is not a valid topic name.")]
    [InlineData("a:b", "'a:b' has ':' at position 2; a topic name uses only letters a-z and A-Z, digits, '.', '_' and '-'.")]
    [InlineData("tab\there", "'tab\there' has the character U+0009 at position 4; a topic name uses only letters a-z and A-Z, digits, '.', '_' and '-'.")]
    [InlineData("caf\u00e9", "'caf\u00e9' has '\u00e9' at position 4; a topic name uses only letters a-z and A-Z, digits, '.', '_' and '-'.")]
    public void Problem_InvalidName_SaysWhatAndWhere(string? name, string problem) => Assert.Equal(problem, KafkaTopicName.Problem(name));

    [Fact]
    public void Problem_NameOneCharacterTooLong_SaysTheLength() =>
        Assert.Equal("a topic name has at most 249 characters, this one has 250.", KafkaTopicName.Problem(new string('t', 250)));

    [Fact]
    public void Problem_AnyName_IsNullExactlyWhenKafkasRuleHolds()
    {
        // The rule restated independently: length 1..249, every character legal, not "." or "..".
        Gen.OneOf(Gen.String[Gen.Char[Legal], 0, 260], Gen.String[Gen.Char[Legal], 1, 3], Gen.String[Gen.Char['\0', '\u00ff'], 0, 20]).Sample(name =>
        {
            var expected = name.Length is >= 1 and <= 249 && name.All(c => Legal.Contains(c, StringComparison.Ordinal)) && name is not ("." or "..");
            Assert.Equal(expected, KafkaTopicName.Problem(name) is null);
        });
    }
}
