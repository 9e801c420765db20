namespace Sluice.Client.Dns;

/// <summary>A write waiting for its bulk request, with the task its caller awaits.</summary>
internal sealed record PendingWrite(RRsetWrite Write, TaskCompletionSource<RRset?> Completion);
