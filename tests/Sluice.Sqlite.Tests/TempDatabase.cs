namespace Sluice.Sqlite.Tests;

/// <summary>A real SQLite file in a fresh temporary directory, deleted with it.</summary>
internal sealed class TempDatabase : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-sqlite-").FullName;

    public string Path => System.IO.Path.Combine(_directory, "quotas.db");

    public string ConnectionString => $"Data Source={Path}";

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
