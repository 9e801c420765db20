namespace Sluice.Algorithms;

/// <summary>
/// The state slots of one rate of one key. A store may keep a key's first slot apart from the others (the in-memory
/// store keeps it inline with the key, so a one-slot rate costs one cache line); this view hides the split.
/// </summary>
internal ref struct RateSlots
{
    private static long s_zero;

    private readonly ref long _first;
    private readonly Span<long> _rest;
    private readonly int _offset;

    /// <summary>Slots <paramref name="offset"/>.. of a key whose slot 0 is <paramref name="first"/> and slots 1.. are <paramref name="rest"/>.</summary>
    public RateSlots(ref long first, Span<long> rest, int offset)
    {
        _first = ref first;
        _rest = rest;
        _offset = offset;
    }

    /// <summary>The state of a key never seen: zeros. Must not be written.</summary>
    public static RateSlots Unseen(ReadOnlySpan<long> zeros) => new(ref s_zero, System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(zeros), zeros.Length), 0);

    public readonly ref long this[int index]
    {
        get
        {
            var slot = _offset + index;
            if (slot == 0)
            {
                return ref _first;
            }

            return ref _rest[slot - 1];
        }
    }
}
