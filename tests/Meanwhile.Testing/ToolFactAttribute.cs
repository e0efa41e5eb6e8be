namespace Meanwhile.Testing;

/// <summary>A fact that is skipped when a program it needs is not installed.</summary>
public sealed class ToolFactAttribute : FactAttribute
{
    /// <summary>Skips the fact unless every one of <paramref name="tools"/> is installed.</summary>
    public ToolFactAttribute(params string[] tools)
    {
        foreach (var tool in tools)
        {
            if (!Tool.Exists(tool)) Skip = $"{tool} is not installed";
        }
    }
}
