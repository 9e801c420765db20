namespace Sluice.Client.Tests;

/// <summary>Sends <see cref="Console.Out"/> and <see cref="Console.Error"/> to strings until disposed (tests in <see cref="ConsoleCollection"/> only).</summary>
internal sealed class ConsoleCapture : IDisposable
{
    private readonly TextWriter _stdout = Console.Out;
    private readonly TextWriter _stderr = Console.Error;
    private readonly StringWriter _output = new();
    private readonly StringWriter _error = new();

    public ConsoleCapture()
    {
        Console.SetOut(_output);
        Console.SetError(_error);
    }

    public string Out => _output.ToString();

    public string Error => _error.ToString();

    public void Dispose()
    {
        Console.SetOut(_stdout);
        Console.SetError(_stderr);
        _output.Dispose();
        _error.Dispose();
    }
}
