namespace StreamSeq.Worker.Alerts;

/// <summary>Registers the alert sinks of <see cref="AlertSettings"/>.</summary>
public static class AlertServiceCollectionExtensions
{
    /// <summary>Binds and validates <c>StreamSeq:Alerts</c> at start and runs the webhook when one is configured.</summary>
    public static IServiceCollection AddAlertSinks(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<AlertSettings>().Bind(configuration.GetSection(AlertSettings.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AlertWebhookService>();
        services.AddHostedService(sp => sp.GetRequiredService<AlertWebhookService>());
        return services;
    }
}
