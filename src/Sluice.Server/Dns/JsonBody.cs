using System.Text.Json;

namespace Sluice.Server.Dns;

/// <summary>A DNS request's body: its JSON, null when it is not JSON, unless it was too large to read.</summary>
internal readonly record struct JsonBody(JsonElement? Value, bool TooLarge);
