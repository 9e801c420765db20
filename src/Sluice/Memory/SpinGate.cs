namespace Sluice.Memory;

/// <summary>
/// A lock of one compare-and-swap to enter and one write to leave: a decision holds it for a few dozen instructions,
/// where a <see cref="Lock"/> costs several times more. Under contention it spins, then yields, then sleeps.
/// Not reentrant.
/// </summary>
internal struct SpinGate
{
    private int _held;

    public void Enter()
    {
        if (Interlocked.CompareExchange(ref _held, 1, 0) != 0)
        {
            EnterContended();
        }
    }

    /// <summary>Takes the gate if it is free; never waits.</summary>
    public bool TryEnter() => Interlocked.CompareExchange(ref _held, 1, 0) == 0;

    public void Exit() => Volatile.Write(ref _held, 0);

    private void EnterContended()
    {
        var spinner = default(SpinWait);
        do
        {
            spinner.SpinOnce(sleep1Threshold: 30);
        }
        while (Volatile.Read(ref _held) != 0 || Interlocked.CompareExchange(ref _held, 1, 0) != 0);
    }
}
