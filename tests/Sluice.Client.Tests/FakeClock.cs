namespace Sluice.Client.Tests;

/// <summary>Runs code that waits on a <see cref="ManualTimeProvider"/> by moving the clock to each wait's end.</summary>
internal static class FakeClock
{
    /// <summary>
    /// Moves <paramref name="time"/> to each next timer until <paramref name="task"/> completes (at most
    /// <paramref name="limit"/> of fake time, 10 minutes by default, and 30 s of real time). While no timer is pending the
    /// code under test is still running or waits on something real (a socket, the test host), so the clock stays put:
    /// moving it then would race the code's next timer, which would start late. Only a caller that passes
    /// <paramref name="step"/> has the clock moved by it then.
    /// </summary>
    public static async Task<T> DriveAsync<T>(ManualTimeProvider time, Task<T> task, TimeSpan? limit = null, TimeSpan? step = null)
    {
        var end = time.GetUtcNow() + (limit ?? TimeSpan.FromMinutes(10));
        var realEnd = Environment.TickCount64 + 30_000;
        while (!task.IsCompleted && time.GetUtcNow() < end)
        {
            // Let the code under test reach its next wait, then jump straight to the earliest timer.
            await Task.Delay(1);
            if (task.IsCompleted)
            {
                break;
            }

            if (Environment.TickCount64 > realEnd)
            {
                throw new TimeoutException("The task under test did not complete within 30 s of real time.");
            }

            if (time.UntilNextTimer is { } due)
            {
                time.Advance(due);
            }
            else if (step is { } by)
            {
                time.Advance(by);
            }
        }

        return await task;
    }
}
