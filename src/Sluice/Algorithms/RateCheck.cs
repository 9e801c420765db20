namespace Sluice.Algorithms;

/// <summary>What one rate would decide for one request, computed without changing its state.</summary>
/// <param name="Allowed">Whether the rate has room for the cost.</param>
/// <param name="Remaining">Units left after the charge when allowed, before it when denied.</param>
/// <param name="ResetAtMicros">When the window resets (see <see cref="RateStatus.ResetAt"/>).</param>
/// <param name="RetryAfterMicros">0 when allowed; otherwise the wait, or <see cref="Microseconds.Never"/> / <see cref="Microseconds.Unknown"/>.</param>
/// <param name="NewState">For a one-slot algorithm that allowed: the slot's value after the charge, so the charge is a store.</param>
/// <param name="ExpiresAtMicros">For a one-slot algorithm that allowed: when the state is empty again after the charge.</param>
internal readonly record struct RateCheck(bool Allowed, long Remaining, long ResetAtMicros, long RetryAfterMicros, long NewState = 0, long ExpiresAtMicros = 0);
