namespace AsyncQueue.Dashboard;

/// <summary>Metadata on one mapping's endpoints, so the start-up log finds them among the app's (an app may map two dashboards).</summary>
internal sealed class DashboardEndpointMarker;
