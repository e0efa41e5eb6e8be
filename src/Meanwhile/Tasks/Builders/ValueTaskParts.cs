using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>What a <see cref="ValueTask"/> is made of, which it does not say (and AsTask would allocate to find out).</summary>
internal static class ValueTaskParts
{
    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_obj")]
    public static extern ref readonly object? ObjectOf(ref ValueTask task);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_token")]
    public static extern ref readonly short TokenOf(ref ValueTask task);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_continueOnCapturedContext")]
    public static extern ref readonly bool ContinuesOnCapturedContext(ref ValueTask task);
}

/// <summary>What a <see cref="ValueTask{TResult}"/> is made of.</summary>
internal static class ValueTaskParts<T>
{
    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_obj")]
    public static extern ref readonly object? ObjectOf(ref ValueTask<T> task);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_token")]
    public static extern ref readonly short TokenOf(ref ValueTask<T> task);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_continueOnCapturedContext")]
    public static extern ref readonly bool ContinuesOnCapturedContext(ref ValueTask<T> task);
}
