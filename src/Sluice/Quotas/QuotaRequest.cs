namespace Sluice.Quotas;

/// <summary>
/// One item to count against a quota of distinct items per period, such as "unique certificate recipients per account
/// per calendar month".
/// </summary>
/// <param name="Quota">The quota's name (<c>recipients</c>); quotas with different names never share usage.</param>
/// <param name="Subject">Whose quota it is (an account id).</param>
/// <param name="Item">The item counted once per period (a normalised e-mail address). Compared ordinally: normalise case first.</param>
/// <param name="Limit">Distinct items allowed per period; 0 refuses every new item.</param>
/// <param name="Period">The calendar period usage is counted over.</param>
public readonly record struct QuotaRequest(string Quota, string Subject, string Item, long Limit, QuotaPeriod Period);
