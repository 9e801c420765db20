using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Sluice.Server.Data;

/// <summary>
/// The server's data. Only portable LINQ and mappings are used (no SQLite-specific SQL), so another EF Core provider
/// such as PostgreSQL can replace SQLite by changing the registration.
/// </summary>
public sealed class ServerDb(DbContextOptions<ServerDb> options) : DbContext(options)
{
    public DbSet<Account> Accounts => Set<Account>();

    public DbSet<ApiKeyRecord> ApiKeys => Set<ApiKeyRecord>();

    public DbSet<Certificate> Certificates => Set<Certificate>();

    public DbSet<ServerSetting> Settings => Set<ServerSetting>();

    public DbSet<Domain> Domains => Set<Domain>();

    public DbSet<RRset> RRsets => Set<RRset>();

    /// <summary>
    /// Whether a save failed because a unique index already holds the value: SQLite's <c>SQLITE_CONSTRAINT_UNIQUE</c>
    /// or <c>SQLITE_CONSTRAINT_PRIMARYKEY</c>, or SQL state 23505 from a provider that reports one (PostgreSQL).
    /// </summary>
    public static bool IsUniqueViolation(DbUpdateException exception) => exception.InnerException switch
    {
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 2067 or 1555,
        DbException other => other.SqlState == "23505",
        _ => false,
    };

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Account>(e =>
        {
            e.ToTable("accounts");
            e.Property(a => a.Name).HasMaxLength(200);
            e.Property(a => a.Plan).HasMaxLength(50);
        });
        modelBuilder.Entity<ApiKeyRecord>(e =>
        {
            e.ToTable("api_keys");
            e.HasIndex(k => k.Hash).IsUnique();
            e.HasIndex(k => k.AccountId);
            e.Property(k => k.Hash).HasMaxLength(32);
            e.Property(k => k.Prefix).HasMaxLength(16);
            e.Property(k => k.RatesOverride).HasMaxLength(400);
        });
        modelBuilder.Entity<Certificate>(e =>
        {
            e.ToTable("certificates");
            e.HasIndex(c => new { c.AccountId, c.Id });
            e.Property(c => c.RecipientEmail).HasMaxLength(254);
            e.Property(c => c.RecipientName).HasMaxLength(200);
            e.Property(c => c.Course).HasMaxLength(200);
        });
        modelBuilder.Entity<ServerSetting>(e =>
        {
            e.ToTable("server_settings");
            e.HasKey(s => s.Name);
        });
        modelBuilder.Entity<Domain>(e =>
        {
            e.ToTable("domains");
            e.HasIndex(d => d.Name).IsUnique();
            e.HasIndex(d => d.AccountId);
            e.Property(d => d.Name).HasMaxLength(253);
        });
        modelBuilder.Entity<RRset>(e =>
        {
            e.ToTable("rrsets");
            e.HasIndex(r => new { r.DomainId, r.Subname, r.Type }).IsUnique();
            e.Property(r => r.Subname).HasMaxLength(178);
            e.Property(r => r.Type).HasMaxLength(10);
        });
    }
}
