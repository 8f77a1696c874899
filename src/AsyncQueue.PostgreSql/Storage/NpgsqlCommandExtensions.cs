using Npgsql;
using NpgsqlTypes;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>Typed parameters, so a null value still tells the server its type.</summary>
internal static class NpgsqlCommandExtensions
{
    public static NpgsqlCommand Text(this NpgsqlCommand command, string name, string? value) => command.Add(name, NpgsqlDbType.Text, value);

    public static NpgsqlCommand Int(this NpgsqlCommand command, string name, int? value) => command.Add(name, NpgsqlDbType.Integer, value);

    public static NpgsqlCommand Long(this NpgsqlCommand command, string name, long? value) => command.Add(name, NpgsqlDbType.Bigint, value);

    public static NpgsqlCommand Bool(this NpgsqlCommand command, string name, bool value) => command.Add(name, NpgsqlDbType.Boolean, value);

    public static NpgsqlCommand Uuid(this NpgsqlCommand command, string name, Guid value) => command.Add(name, NpgsqlDbType.Uuid, value);

    public static NpgsqlCommand Array<T>(this NpgsqlCommand command, string name, NpgsqlDbType element, T[] values)
    {
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | element) { Value = values });
        return command;
    }

    private static NpgsqlCommand Add(this NpgsqlCommand command, string name, NpgsqlDbType type, object? value)
    {
        command.Parameters.Add(new NpgsqlParameter(name, type) { Value = value ?? DBNull.Value });
        return command;
    }
}
