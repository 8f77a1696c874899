namespace AsyncQueue.Dashboard;

/// <summary>Options for the dashboard that <c>MapJobQueueDashboard</c> maps.</summary>
public class JobQueueDashboardOptions
{
    /// <summary>
    /// Gets or sets the name of the authorization policy a user must satisfy to open the dashboard and act on it.
    /// Calling <c>RequireAuthorization</c> on the endpoints that <c>MapJobQueueDashboard</c> returns does the same.
    /// </summary>
    /// <value>
    /// The default is <see langword="null"/>: with no policy, here or by <c>RequireAuthorization</c>, the dashboard
    /// serves only requests from a loopback address and refuses every other with 403 Forbidden.
    /// </value>
    public string? AuthorizationPolicy { get; set; }

    /// <summary>Gets or sets how many dead letters one page lists.</summary>
    /// <value>The default is 50; from 1 to 500.</value>
    public int PageSize { get; set; } = 50;

    /// <summary>Checks the options, naming the property that is out of range.</summary>
    internal void Validate()
    {
        if (PageSize is < 1 or > 500)
        {
            throw new ArgumentOutOfRangeException(nameof(PageSize), PageSize, $"{nameof(JobQueueDashboardOptions)}.{nameof(PageSize)} must be from 1 to 500.");
        }

        if (AuthorizationPolicy is { Length: 0 })
        {
            throw new ArgumentException($"{nameof(JobQueueDashboardOptions)}.{nameof(AuthorizationPolicy)} must name a policy, or be null for the loopback-only default.", nameof(AuthorizationPolicy));
        }
    }
}
