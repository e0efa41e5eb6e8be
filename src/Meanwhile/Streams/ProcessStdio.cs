namespace Meanwhile;

/// <summary>What a child process's standard stream (stdin, stdout or stderr) is connected to.</summary>
public enum ProcessStdio
{
    /// <summary>The parent's own stream: the child reads the same stdin, writes to the same terminal or file.</summary>
    Inherit,
    /// <summary>A pipe to the parent, exposed as a <see cref="DataStream"/> on the loop.</summary>
    Pipe,
    /// <summary>/dev/null: reading gives end of stream at once, writing discards everything.</summary>
    Null,
}
