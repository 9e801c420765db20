using Sluice.Server;

var builder = WebApplication.CreateBuilder(args);

// http://127.0.0.1:5080 unless --urls, ASPNETCORE_URLS or URLS says otherwise.
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls("http://127.0.0.1:5080");
}

builder.Services.AddSluice(builder.Configuration.GetSection("Sluice"));

// Used only when Sluice:Store is "Redis" (Sluice:Redis:Configuration, Timeout, FailureMode, ...).
builder.Services.AddSluiceRedis(builder.Configuration.GetSection("Sluice:Redis"));

var app = builder.Build();
app.UseRouting();
app.UseSluice();
app.MapHealthChecks("/healthz/store").DisableRateLimit();
app.MapReferenceEndpoints();
app.Run();

/// <summary>The entry point, visible to the test host.</summary>
public partial class Program;
