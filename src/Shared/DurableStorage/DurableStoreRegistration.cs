using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Storage.Durable;

/// <summary>The registration every durable store's <c>Use*</c> method makes. Shared by the durable stores (compiled into each package).</summary>
internal static class DurableStoreRegistration
{
    /// <summary>
    /// Registers the store's options (the connection string, then the caller's adjustments), validated at start by
    /// <typeparamref name="TValidator"/>, and puts <typeparamref name="TStore"/> in place of the in-memory store.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="connectionString">The store's connection string, set before <paramref name="configure"/> runs.</param>
    /// <param name="setConnectionString">Sets the connection string on the options.</param>
    /// <param name="configure">The caller's adjustments, if any.</param>
    public static void AddStore<TOptions, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TValidator, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TStore>(
        IServiceCollection services,
        string connectionString,
        Action<TOptions, string> setConnectionString,
        Action<TOptions>? configure)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
        where TStore : class, IJobStore
    {
        services.AddOptions<TOptions>()
            .Configure(options =>
            {
                setConnectionString(options, connectionString);
                configure?.Invoke(options);
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());

        // Idempotency keys are a unique index of the jobs table, so the core's IIdempotencyStore goes unused.
        services.Replace(ServiceDescriptor.Singleton<IJobStore, TStore>());
    }
}
