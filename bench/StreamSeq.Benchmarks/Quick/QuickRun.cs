using System.Diagnostics;
using System.Reflection;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using StreamSeq.Benchmarks.Kafka;

namespace StreamSeq.Benchmarks.Quick;

/// <summary>
/// <c>--quick [summary.md [suite-name-part]]</c>: every BenchmarkDotNet suite of this project, in this process (no per-suite build),
/// with one warm-up and five 150 ms iterations per case, and a Markdown summary of all tables. Suites with their own
/// job attributes keep their run strategy with at most three iterations. Meant for a shared two-core machine in a
/// few minutes; use the normal switcher (<c>--filter ...</c>) for publication-grade numbers.
/// </summary>
internal static class QuickRun
{
    /// <summary>Suites left out of the quick pass, and why.</summary>
    public static readonly IReadOnlyDictionary<Type, string> Excluded = new Dictionary<Type, string>
    {
        [typeof(EmbeddedKafkaRebalanceBenchmarks)] = "times whole consumer-group rebalances (seconds each, classic ones wait out session timeouts); run it alone with `--filter *Rebalance*`",
    };

    /// <param name="markdownPath">Where to write the summary (null: console only).</param>
    /// <param name="only">Run only suites whose type name contains this text (null: all).</param>
    public static int Run(string? markdownPath, string? only = null)
    {
        var clock = Stopwatch.StartNew();
        var quick = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(1)
            .WithIterationCount(5)
            .WithIterationTime(TimeInterval.FromMilliseconds(150))
            .WithId("Quick");
        var config = ManualConfig.CreateEmpty()
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddLogger(ConsoleLogger.Default)
            .WithOptions(ConfigOptions.DisableLogFile)
            .WithSummaryStyle(BenchmarkDotNet.Reports.SummaryStyle.Default.WithMaxParameterColumnWidth(40))
            .WithArtifactsPath(Path.Combine(Path.GetTempPath(), $"streamseq-bench-{Environment.ProcessId}"));
        var suites = typeof(QuickRun).Assembly.GetTypes()
            .Where(t => t.IsPublic && !t.IsAbstract && t.GetMethods().Any(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null))
            .Where(t => !Excluded.ContainsKey(t))
            .Where(t => only is null || t.Name.Contains(only, StringComparison.OrdinalIgnoreCase))
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToList();
        var runs = suites.Select(type =>
        {
            var info = BenchmarkConverter.TypeToBenchmarks(type, config);
            var ownJob = type.GetCustomAttributes<JobConfigBaseAttribute>(inherit: true).Any();
            var cases = info.BenchmarksCases.Select(c => BenchmarkCase.Create(c.Descriptor, ownJob ? Shorten(c.Job) : quick, c.Parameters, c.Config)).ToArray();
            return new BenchmarkRunInfo(cases, type, info.Config);
        }).ToArray();
        var summaries = BenchmarkRunner.Run(runs);
        var markdown = Markdown(summaries, clock.Elapsed);
        Console.WriteLine(markdown);
        if (markdownPath is not null)
        {
            File.WriteAllText(markdownPath, markdown);
        }

        return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
    }

    private static Job Shorten(Job job)
    {
        var copy = job.UnfreezeCopy();
        copy.Infrastructure.Toolchain = InProcessEmitToolchain.Instance;
        copy.Run.WarmupCount = Math.Min(job.Run.HasValue(BenchmarkDotNet.Jobs.RunMode.WarmupCountCharacteristic) ? job.Run.WarmupCount : 1, 1);
        copy.Run.IterationCount = Math.Min(job.Run.HasValue(BenchmarkDotNet.Jobs.RunMode.IterationCountCharacteristic) ? job.Run.IterationCount : 3, 3);
        return copy.Freeze();
    }

    private static string Markdown(Summary[] summaries, TimeSpan elapsed)
    {
        var md = new StringBuilder();
        md.AppendLine("## BenchmarkDotNet suites (quick pass)");
        md.AppendLine();
        md.AppendLine($"Every suite in `bench/StreamSeq.Benchmarks`, in process, one warm-up and five 150 ms iterations per case (suites with their own job keep their strategy, at most three iterations); {summaries.Sum(s => s.BenchmarksCases.Length)} cases in {elapsed.TotalMinutes:F1} minutes. Wall-clock times: on a loaded machine they include time the process was not scheduled, so read the medians and compare within a table. Not included: {string.Join("; ", Excluded.Select(e => $"`{e.Key.Name}` ({e.Value})"))}.");
        md.AppendLine();
        foreach (var summary in summaries.OrderBy(s => s.BenchmarksCases.FirstOrDefault()?.Descriptor.Type.Name, StringComparer.Ordinal))
        {
            var type = summary.BenchmarksCases.FirstOrDefault()?.Descriptor.Type;
            md.AppendLine($"### {type?.Name ?? summary.Title}");
            md.AppendLine();
            var logger = new AccumulationLogger();
            MarkdownExporter.GitHub.ExportToLog(summary, logger);
            var lines = logger.GetLog().Split('\n').Select(l => l.TrimEnd('\r')).SkipWhile(l => !l.StartsWith('|')).ToList();
            md.AppendLine(lines.Count > 0 ? string.Join("\n", lines).Trim() : "(no results: see the console log)");
            md.AppendLine();
        }

        return md.ToString();
    }
}
