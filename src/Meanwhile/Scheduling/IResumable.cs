namespace Meanwhile;

/// <summary>Something a loop wait resumes through <see cref="LoopWait.ResumableContinuation"/>: a pooled async method's box.</summary>
internal interface IResumable
{
    /// <summary>Carries on (the box's MoveNext, in its execution context).</summary>
    void Resume();
}
