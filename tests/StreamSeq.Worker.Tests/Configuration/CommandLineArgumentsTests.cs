using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Tests.Configuration;

/// <summary>
/// The worker's command line holds settings only: what the host's reader would skip or override is a problem naming
/// the argument.
/// </summary>
public sealed class CommandLineArgumentsTests
{
    [Theory]
    [InlineData("--StreamSeq:Kafka:BootstrapServers=kafka:9092")]
    [InlineData("--StreamSeq:Kafka:BootstrapServers", "kafka:9092")]
    [InlineData("/StreamSeq:Processing:Lag=2")]
    [InlineData("StreamSeq:Processing:Lag=2")]
    [InlineData("--urls=http://127.0.0.1:0", "--StreamSeq:ModelFiles:0", "/etc/models")]
    [InlineData("--StreamSeq:Processing:Lag=2", "--StreamSeq:Processing:Lag=2")]
    [InlineData("--StreamSeq:Kafka:GroupId=")]
    public void FindProblems_Settings_None(params string[] args) => Assert.Empty(CommandLineArguments.FindProblems(args));

    [Theory]
    [InlineData("'foo': not a setting; the worker takes settings as --Key=value", "foo")]
    [InlineData("'-x': not a setting;", "-x")]
    [InlineData("'-x=1': not a setting;", "-x=1")]
    [InlineData("'--StreamSeq:Processing:Lag': no value follows; write --StreamSeq:Processing:Lag=value.", "--StreamSeq:Processing:Lag")]
    [InlineData("'--StreamSeq:Kafka:GroupId': the next argument, '--StreamSeq:Processing:Lag=3', is another setting, not its value", "--StreamSeq:Kafka:GroupId", "--StreamSeq:Processing:Lag=3")]
    [InlineData("'--=3': '' is not a setting's name", "--=3")]
    [InlineData("'--help': the usage is printed only when it is the only argument; run the worker with --help alone.", "--StreamSeq:Processing:Lag=2", "--help")]
    [InlineData("'--help': the usage is printed only when it is the only argument; run the worker with --help alone.", "--help", "--StreamSeq:Processing:Lag=2")]
    [InlineData("'-h': the usage is printed only when it is the only argument; run the worker with -h alone.", "--urls=http://127.0.0.1:9000", "-h")]
    [InlineData("'--StreamSeq::Lag=3': 'StreamSeq::Lag' is not a setting's name", "--StreamSeq::Lag=3")]
    [InlineData("'/etc/models': not a setting (a path where a --Key=value belongs?)", "/etc/models", "x")]
    [InlineData("streamseq:processing:lag: given twice on the command line with different values ('--StreamSeq:Processing:Lag=2' and '--streamseq:processing:lag=3')", "--StreamSeq:Processing:Lag=2", "--streamseq:processing:lag=3")]
    public void FindProblems_ArgumentTheHostWouldSkipOrOverride_OneProblemNamingIt(string expected, params string[] args)
    {
        Assert.StartsWith(expected, Assert.Single(CommandLineArguments.FindProblems(args)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, "--help")]
    [InlineData(true, "-h")]
    [InlineData(true, "-?")]
    [InlineData(false)]
    [InlineData(false, "--help", "--StreamSeq:Processing:Lag=2")]
    public void AsksForHelp_HelpAlone_True(bool expected, params string[] args) => Assert.Equal(expected, CommandLineArguments.AsksForHelp(args));
}
