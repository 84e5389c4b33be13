namespace StreamSeq.Kafka;

/// <summary>
/// Kafka's rule for topic names (1 to 249 characters from <c>a-z A-Z 0-9 . _ -</c>, and not <c>.</c> or <c>..</c>),
/// checked before any client starts: a broker refuses other names only when the topic is created or first used,
/// with an error that does not say which setting holds the name.
/// </summary>
public static class KafkaTopicName
{
    /// <summary>The longest name a broker accepts.</summary>
    public const int MaxLength = 249;

    /// <summary>Null when <paramref name="name"/> is a valid topic name; otherwise what is wrong with it.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "a topic name must not be empty.";
        }

        if (name is "." or "..")
        {
            return $"'{name}' is not a valid topic name.";
        }

        if (name.Length > MaxLength)
        {
            return $"a topic name has at most {MaxLength} characters, this one has {name.Length}.";
        }

        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return $"'{name}' has {(char.IsControl(c) || char.IsWhiteSpace(c) ? $"the character U+{(int)c:X4}" : $"'{c}'")} at position {i + 1}; a topic name uses only letters a-z and A-Z, digits, '.', '_' and '-'.";
            }
        }

        return null;
    }
}
