using Microsoft.Extensions.Options;

namespace Sluice.Redis;

/// <summary>Fails the options with every problem <see cref="RedisRateLimitStoreOptions.Validate"/> lists.</summary>
internal sealed class RedisRateLimitStoreOptionsValidator : IValidateOptions<RedisRateLimitStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisRateLimitStoreOptions options)
        => options.Validate() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}
