using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using StreamSeq.Worker.Configuration;
using StreamSeq.Worker.Hosting;

namespace StreamSeq.Worker.Dashboard;

/// <summary>
/// The dashboard's HTTP surface on the worker's port: the pages (static files embedded in the worker from
/// <c>wwwroot/</c>, so they work offline and from any working folder), JSON snapshots, and server-sent event streams.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>GET /</c>, <c>/stream.html?id=</c>: the stream list and a stream's page.</item>
/// <item><c>GET /api/dashboard/streams?filter=&amp;sort=id|anomalies|recent&amp;limit=</c>: the stream list as JSON.</item>
/// <item><c>GET /api/dashboard/events?...</c>: the same list pushed once a second (text/event-stream).</item>
/// <item><c>GET /api/dashboard/stream?id=</c>: a stream's kept history, latest forecasts and anomalies.</item>
/// <item><c>GET /api/dashboard/stream/events?id=</c>: that stream's updates as they happen, batched every
/// <see cref="DashboardSettings.PushInterval"/>, each batch saying how many updates this page has lost so far.</item>
/// </list>
/// The two event streams are live feeds: at most <see cref="DashboardSettings.MaxLiveFeeds"/> are open at once, and
/// one more is a 503 with <c>Retry-After</c>. A feed whose client stops reading is aborted once one event is not taken
/// within <see cref="DashboardSettings.FeedWriteTimeout"/>, so it cannot hold its slot.
/// </remarks>
public static class DashboardEndpoints
{
    private const string ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; connect-src 'self'; frame-ancestors 'none'";

    /// <summary>Serves the pages and maps the API.</summary>
    public static void MapDashboard(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var files = new EmbeddedFileProvider(typeof(DashboardEndpoints).Assembly, "StreamSeq.Worker.wwwroot");

        // The static-file middleware passes any method other than GET and HEAD on, so a POST on a page fell through to
        // 404; like every other endpoint, the pages and their assets answer it with 405 and the methods they take.
        app.Use((context, next) =>
        {
            var request = context.Request;
            if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)
                || !(request.Path == "/" || (request.Path.HasValue && files.GetFileInfo(request.Path.Value).Exists)))
            {
                return next(context);
            }

            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            context.Response.Headers.Allow = string.Join(", ", WorkerApi.ReadMethods);
            return Task.CompletedTask;
        });
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = context =>
            {
                context.Context.Response.Headers.CacheControl = "no-cache";
                context.Context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
                context.Context.Response.Headers.XContentTypeOptions = "nosniff";
            },
        });
        app.MapMethods("/api/dashboard/streams", WorkerApi.ReadMethods, (HttpContext context, DashboardFeed feed, StreamWorkerService worker, WorkerReadiness readiness) =>
            ListQuery.From(context.Request.Query, out var problem) is { } query
                ? Results.Text(ListJson(feed, worker, readiness, query), "application/json", Encoding.UTF8)
                : WorkerApi.BadRequest(problem!));
        app.MapMethods("/api/dashboard/events", WorkerApi.ReadMethods, ListEvents);
        app.MapMethods("/api/dashboard/stream", WorkerApi.ReadMethods, (HttpContext context, DashboardFeed feed) =>
            QueryStreamId(context, out var problem) is not { } id ? WorkerApi.BadRequest(problem!)
            : feed.TryGet(id, out var view) ? Results.Text(DashboardJson.Write(view.WriteHistory), "application/json", Encoding.UTF8)
            : Results.NotFound(new { error = $"stream '{id}' has not been seen by this worker's dashboard" }));
        app.MapMethods("/api/dashboard/stream/events", WorkerApi.ReadMethods, StreamEvents);
    }

    /// <summary>The <c>id</c> query parameter, decoded strictly (<see cref="StreamIdText"/>); given once.</summary>
    private static string? QueryStreamId(HttpContext context, out string? problem)
    {
        var raw = StreamIdText.RawQueryValues(context.Request.QueryString.Value, "id");
        if (raw.Count != 1)
        {
            problem = raw.Count == 0 ? "id: missing; give a stream id (?id=...)." : $"id: given {raw.Count} times; give one stream id.";
            return null;
        }

        return StreamIdText.Decode(raw[0], "id", plusIsSpace: true, out problem);
    }

    private static async Task ListEvents(HttpContext context, DashboardFeed feed, StreamWorkerService worker, WorkerReadiness readiness, IOptions<DashboardSettings> settings, TimeProvider time, IHostApplicationLifetime lifetime)
    {
        var query = ListQuery.From(context.Request.Query, out var problem);
        using var slot = await OpenLiveFeed(context, problem, feed, settings.Value).ConfigureAwait(false);
        if (slot is null)
        {
            return;
        }

        using var connection = new FeedConnection(context, feed, settings.Value.FeedWriteTimeout, time, lifetime.ApplicationStopping);
        var stopping = connection.Ending;
        BeginEventStream(context);
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                await connection.Send(ListJson(feed, worker, readiness, query!)).ConfigureAwait(false);
                await Task.Delay(TimeSpan.FromSeconds(1), time, stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            connection.End();
        }
    }

    private static async Task StreamEvents(HttpContext context, DashboardFeed feed, IOptions<DashboardSettings> settings, TimeProvider time, IHostApplicationLifetime lifetime)
    {
        var id = QueryStreamId(context, out var problem);
        using var slot = await OpenLiveFeed(context, problem, feed, settings.Value).ConfigureAwait(false);
        if (slot is null)
        {
            return;
        }

        using var connection = new FeedConnection(context, feed, settings.Value.FeedWriteTimeout, time, lifetime.ApplicationStopping);
        var stopping = connection.Ending;
        var interval = settings.Value.PushInterval;
        using var client = feed.Subscribe(id!);
        if (client is null)
        {
            // Too many pages already wait for streams this worker has not seen: the page retries later.
            await WorkerApi.Unavailable(context, $"stream '{id}' has not been seen by this worker, and too many pages already wait for unseen streams").ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        BeginEventStream(context);
        var frame = new StringBuilder(4096);
        var lastSent = time.GetTimestamp();
        try
        {
            await connection.Send(Frame(frame, client, 0)).ConfigureAwait(false);
            while (!stopping.IsCancellationRequested)
            {
                await Task.Delay(interval, time, stopping).ConfigureAwait(false);
                var count = 0;
                frame.Clear();
                frame.Append("{\"items\":[");
                while (count < 5000 && client.Reader.TryRead(out var update))
                {
                    if (count++ > 0)
                    {
                        frame.Append(',');
                    }

                    frame.Append(update);
                }

                // Quiet streams still get a frame every few seconds (summary and drop count; keeps proxies open).
                if (count == 0 && time.GetElapsedTime(lastSent) < TimeSpan.FromSeconds(5))
                {
                    continue;
                }

                await connection.Send(Frame(frame, client, count)).ConfigureAwait(false);
                lastSent = time.GetTimestamp();
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            connection.End();
        }
    }

    /// <summary>
    /// The start of both event streams: a 400 when the request's parameters have a <paramref name="problem"/>, the
    /// headers alone for HEAD (which must not hold the connection open with frames nobody reads), a 503 beyond
    /// <see cref="DashboardSettings.MaxLiveFeeds"/> (the page retries later); null in these cases, which are answered.
    /// Otherwise the live-feed slot, which the feed holds until it ends, however it ends (the page goes away, an error,
    /// the worker stops).
    /// </summary>
    private static async Task<IDisposable?> OpenLiveFeed(HttpContext context, string? problem, DashboardFeed feed, DashboardSettings settings)
    {
        if (problem is not null)
        {
            await WorkerApi.BadRequest(problem).ExecuteAsync(context).ConfigureAwait(false);
            return null;
        }

        if (HttpMethods.IsHead(context.Request.Method))
        {
            BeginEventStream(context);
            return null;
        }

        var slot = feed.OpenLiveFeed();
        if (slot is null)
        {
            await WorkerApi.Unavailable(context, $"{settings.MaxLiveFeeds} live feeds are open on this worker's dashboard, the most it serves at once; close a page or retry later.").ExecuteAsync(context).ConfigureAwait(false);
        }

        return slot;
    }

    private static string Frame(StringBuilder frame, DashboardClient client, int count)
    {
        var view = client.View;
        if (count == 0)
        {
            frame.Clear();
            frame.Append("{\"items\":[");
        }

        frame.Append("],\"dropped\":").Append(client.Dropped.ToString(CultureInfo.InvariantCulture));
        if (view is not null)
        {
            frame.Append(",\"summary\":").Append(DashboardJson.Write(view.WriteSummary));
        }

        return frame.Append('}').ToString();
    }

    private static void BeginEventStream(HttpContext context)
    {
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    private static string ListJson(DashboardFeed feed, StreamWorkerService worker, WorkerReadiness readiness, ListQuery query) => DashboardJson.Write(json =>
    {
        var all = feed.Streams.ToList();
        var matched = string.IsNullOrEmpty(query.Filter)
            ? all
            : all.Where(v => v.Id.Contains(query.Filter, StringComparison.OrdinalIgnoreCase) || v.Model.Contains(query.Filter, StringComparison.OrdinalIgnoreCase)).ToList();
        IEnumerable<StreamView> ordered = query.Sort switch
        {
            "anomalies" => matched.OrderByDescending(v => v.AnomalyCount).ThenBy(v => v.Id, StringComparer.Ordinal),
            "recent" => matched.OrderByDescending(v => v.LastUpdate).ThenBy(v => v.Id, StringComparer.Ordinal),
            _ => matched.OrderBy(v => v.Id, StringComparer.Ordinal),
        };
        json.WriteStartObject();
        json.WriteNumber("generated", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        json.WritePropertyName("dashboard");
        feed.WriteStatus(json);
        var s = worker.Worker.Status;
        json.WritePropertyName("worker");
        json.WriteStartObject();
        json.WriteBoolean("ready", readiness.Current().Ready);
        json.WriteNumber("processed", s.Processed);
        json.WriteNumber("liveStreams", s.LiveStreams);
        json.WriteNumber("alerts", s.Alerts);
        json.WriteNumber("deadLetters", s.DeadLetters);
        json.WriteNumber("lag", s.Lag);
        json.WriteEndObject();
        json.WriteNumber("total", all.Count);
        json.WriteNumber("matched", matched.Count);
        json.WritePropertyName("streams");
        json.WriteStartArray();
        foreach (var v in ordered.Take(query.Limit))
        {
            v.WriteSummary(json);
        }

        json.WriteEndArray();
        json.WritePropertyName("anomalies");
        json.WriteStartArray();
        foreach (var a in feed.RecentAnomalies().Take(20))
        {
            StreamView.WriteAnomaly(json, a);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });

    /// <summary>
    /// A live feed's connection. It ends when the page goes away or the worker stops (so an open page never delays
    /// shutdown), or when one event (write and flush) is not taken within <see cref="DashboardSettings.FeedWriteTimeout"/>:
    /// a client that stops reading would otherwise hold its slot for as long as Kestrel's <c>MinResponseDataRate</c>
    /// allows for the bytes already buffered for it, which at 240 B/s is many minutes.
    /// </summary>
    private sealed class FeedConnection : IDisposable
    {
        private readonly HttpContext context;
        private readonly DashboardFeed feed;
        private readonly TimeSpan writeTimeout;

        // Armed only while an event is written; one timer for the life of the connection.
        private readonly CancellationTokenSource deadline;
        private readonly CancellationTokenSource ending;

        public FeedConnection(HttpContext context, DashboardFeed feed, TimeSpan writeTimeout, TimeProvider time, CancellationToken applicationStopping)
        {
            this.context = context;
            this.feed = feed;
            this.writeTimeout = writeTimeout;
            deadline = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
            ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, applicationStopping, deadline.Token);
        }

        /// <summary>Cancelled when the feed is to end, whatever the reason.</summary>
        public CancellationToken Ending => ending.Token;

        /// <summary>Writes and flushes one event within the write timeout; beyond it <see cref="Ending"/> is cancelled.</summary>
        public async Task Send(string json)
        {
            deadline.CancelAfter(writeTimeout);
            await context.Response.WriteAsync(string.Concat("data: ", json, "\n\n"), ending.Token).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(ending.Token).ConfigureAwait(false);
            deadline.CancelAfter(Timeout.InfiniteTimeSpan);
        }

        /// <summary>
        /// When the feed ends: if an event was not taken in time, aborts the connection (whatever Kestrel still holds
        /// for it is dropped, and the client sees the connection end) and counts and logs it once.
        /// </summary>
        public void End()
        {
            // Whether the deadline passed, not how the write ended: a cancelled write may make Kestrel abort the
            // connection itself (so it looks like the page went away), or end without an exception.
            if (deadline.IsCancellationRequested)
            {
                context.Abort();
                feed.LiveFeedTooSlow(context.Request.Path, context.Connection.RemoteIpAddress?.ToString());
            }
        }

        public void Dispose()
        {
            ending.Dispose();
            deadline.Dispose();
        }
    }

    private sealed record ListQuery(string Filter, string Sort, int Limit)
    {
        private const int MaxLimit = 5000;
        private static readonly string[] Sorts = ["id", "anomalies", "recent"];

        /// <summary>
        /// The list's parameters, or null with the reason: a <c>limit</c> that is not a whole number from 1 to 5000,
        /// a <c>sort</c> that is not one of the three, or a parameter given twice (used to fall back silently to the
        /// defaults, so a typo showed a different list than asked for).
        /// </summary>
        public static ListQuery? From(IQueryCollection query, out string? problem)
        {
            foreach (var name in (string[])["filter", "sort", "limit"])
            {
                if (query[name].Count > 1)
                {
                    problem = $"{name}: given {query[name].Count} times; give it once.";
                    return null;
                }
            }

            var limit = 500;
            var limitText = query["limit"].ToString();
            if (limitText.Length > 0 && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
            {
                problem = $"limit: '{Shorten(limitText)}' is not a whole number from 1 to {MaxLimit}.";
                return null;
            }

            var sort = query["sort"].ToString();
            if (sort.Length > 0 && !Sorts.Contains(sort, StringComparer.Ordinal))
            {
                problem = $"sort: '{Shorten(sort)}' is not one of {string.Join(", ", Sorts)}.";
                return null;
            }

            problem = null;
            return new ListQuery(query["filter"].ToString(), sort, limit);
        }

        private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "...");
    }
}
