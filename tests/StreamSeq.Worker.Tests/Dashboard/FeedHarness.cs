using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Worker.Configuration;
using StreamSeq.Worker.Dashboard;
using StreamSeq.Worker.Hosting;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Dashboard;

/// <summary>A dashboard feed wired to taps exactly as the worker wires it, plus a real processor run to publish.</summary>
internal sealed class FeedHarness : IDisposable
{
    private readonly ServiceProvider services;

    public FeedHarness(DashboardSettings settings, int lag = 2, int horizon = 2, string model = TestInput.Model, TimeProvider? time = null)
    {
        services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        Router = KafkaTestBed.Router(model, lag, horizon);
        Feed = new DashboardFeed(Outputs, Inputs, Router, Options.Create(settings), new DashboardMetrics(services.GetRequiredService<IMeterFactory>()), time ?? TimeProvider.System, NullLogger<DashboardFeed>.Instance, Ownership);
    }

    public OutputTap Outputs { get; } = new();

    public InputTap Inputs { get; } = new();

    public OwnershipTap Ownership { get; } = new();

    public ModelRouter Router { get; }

    public DashboardFeed Feed { get; }

    /// <summary>
    /// Runs the processor over the input and publishes each input record it took in and its outputs through the taps, in
    /// the loop's order. Returns the output records (kind, stream, JSON) for independent checks.
    /// </summary>
    public List<(OutputKind Kind, string Stream, string Json)> Publish(IReadOnlyList<(string Stream, string Value)> input)
    {
        var sink = new TapSink(Outputs);
        using var processor = new StreamProcessor(Router, new ProcessorOptions(), numericTimeFormat: TimeFormat.EpochMilliseconds);
        var store = new StateStore();
        foreach (var (stream, value) in input)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            var (rejected, duplicates) = (processor.DeadLetters, processor.Duplicates);
            processor.ProcessEncoded(bytes, stream, double.NaN, default, new SourcePosition("test", 0, 0), store, sink);
            if (processor.DeadLetters == rejected && processor.Duplicates == duplicates)
            {
                Inputs.Publish(stream, bytes, double.NaN);
                Published++;
            }
        }

        Published += sink.Records.Count;
        return sink.Records;
    }

    /// <summary>Records published through the taps so far (inputs and outputs).</summary>
    public long Published { get; private set; }

    /// <summary><see cref="Publish"/>, then <see cref="DrainAsync"/> until the feed has read everything published so far.</summary>
    public async Task<List<(OutputKind Kind, string Stream, string Json)>> RunAsync(IReadOnlyList<(string Stream, string Value)> input)
    {
        var outputs = Publish(input);
        await DrainAsync(Published);
        return outputs;
    }

    /// <summary>Starts the feed, waits until it has read <paramref name="count"/> records, and stops it.</summary>
    public async Task DrainAsync(long count)
    {
        await Feed.StartAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Feed.Received < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        await Feed.StopAsync(CancellationToken.None);
        Assert.Equal(count, Feed.Received);
    }

    public JsonElement History(string stream)
    {
        Assert.True(Feed.TryGet(stream, out var view), $"stream {stream} is not tracked");
        return JsonDocument.Parse(DashboardJson.Write(view.WriteHistory)).RootElement;
    }

    public void Dispose()
    {
        Feed.Dispose();
        services.Dispose();
    }

    private sealed class TapSink(OutputTap tap) : IRecordSink
    {
        public List<(OutputKind Kind, string Stream, string Json)> Records { get; } = [];

        public void Write(OutputKind kind, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> record)
        {
            Records.Add((kind, streamId.ToString(), Encoding.UTF8.GetString(record)));
            tap.Publish(kind, streamId, record);
        }

        public void DeadLetter(in DeadLetter letter)
        {
        }
    }
}
