namespace Meanwhile.Http.Tests;

/// <summary>A theory skipped, with the reason, when the corpus is not on this machine (rather than passing vacuously).</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class CorpusTheoryAttribute : TheoryAttribute
{
    public CorpusTheoryAttribute()
    {
        if (Corpus.Path is null)
        {
            Skip = $"conformance corpus not found: no shared/conformance/{Corpus.FileName} above {AppContext.BaseDirectory} (set MEANWHILE_CONFORMANCE_DIR)";
        }
    }
}

/// <summary>A fact skipped, with the reason, when the corpus is not on this machine.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class CorpusFactAttribute : FactAttribute
{
    public CorpusFactAttribute()
    {
        if (Corpus.Path is null)
        {
            Skip = $"conformance corpus not found: no shared/conformance/{Corpus.FileName} above {AppContext.BaseDirectory} (set MEANWHILE_CONFORMANCE_DIR)";
        }
    }
}
