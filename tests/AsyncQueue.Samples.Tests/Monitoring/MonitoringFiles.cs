namespace AsyncQueue.Samples.Tests.Monitoring;

/// <summary>The Grafana dashboard and Prometheus alert rules shipped in <c>docs/monitoring</c>, read where they live.</summary>
public static class MonitoringFiles
{
    public static string Folder => Path.Combine(SampleProcess.RepositoryRoot(), "docs", "monitoring");

    public static string Dashboard => Path.Combine(Folder, "asyncqueue-dashboard.json");

    public static string AlertRules => Path.Combine(Folder, "asyncqueue-alerts.yml");

    public static string AlertRuleTests => Path.Combine(Folder, "asyncqueue-alerts.test.yml");
}
