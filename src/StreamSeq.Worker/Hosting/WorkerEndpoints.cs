namespace StreamSeq.Worker.Hosting;

/// <summary>The worker's HTTP endpoints (deployment files and probes refer to these paths).</summary>
public static class WorkerEndpoints
{
    /// <summary>The port containers listen on (<c>Urls=http://+:8080</c> in deploy/Dockerfile).</summary>
    public const int ContainerPort = 8080;

    /// <summary>Prometheus scrape endpoint.</summary>
    public const string Metrics = "/metrics";

    /// <summary>Liveness: healthy unless the processing loop stopped on a fatal error.</summary>
    public const string Live = "/health/live";

    /// <summary>Readiness: every owned partition restored.</summary>
    public const string Ready = "/health/ready";

    /// <summary>Loop status (JSON).</summary>
    public const string Status = "/api/status";

    /// <summary>One stream's current state (JSON).</summary>
    public const string Stream = "/api/streams/{id}";

    /// <summary>The configured models (JSON).</summary>
    public const string Models = "/api/models";
}
