namespace Meanwhile;

/// <summary>
/// Where diagnostics endpoints live: <c>$XDG_RUNTIME_DIR/meanwhile/PID.sock</c> when that runtime directory is the
/// user's own (systemd makes it, mode 0700), else <c>/tmp/meanwhile-UID/PID.sock</c> (or under <c>$TMPDIR</c>) in a
/// directory of mode 0700 that the user owns, the way ssh-agent and tmux keep their sockets. A directory that exists
/// but belongs to someone else, or that others may enter, is refused: whoever made it could listen in another
/// process's place.
/// </summary>
internal static class EndpointPaths
{
    private const int OthersMayEnter = 0x3F; // group and other bits (0o077)

    /// <summary>This process's endpoint path, creating its directory if needed.</summary>
    /// <exception cref="IOException">No safe directory: what was found, and why it was refused.</exception>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public static string ForThisProcess()
    {
        uint me = LinuxNative.geteuid();
        string directory = OwnRuntimeDirectory(me) is { } runtime
            ? Path.Combine(runtime, "meanwhile")
            : Path.Combine(Path.GetTempPath(), $"meanwhile-{me}");
        if (!Directory.Exists(directory))
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (LinuxNative.StatOwner(directory, out uint owner, out int type, out int permissions) < 0)
            throw new IOException($"cannot inspect {directory}");
        if (type != LinuxNative.S_IFDIR) throw new IOException($"{directory} is not a directory");
        if (owner != me) throw new IOException($"{directory} belongs to uid {owner}, not to this process's uid {me}");
        if ((permissions & OthersMayEnter) != 0) throw new IOException($"{directory} has mode {Convert.ToString(permissions, 8)}: others may enter it (it must be 700)");
        RemoveStale(directory);
        return Path.Combine(directory, $"{Environment.ProcessId}.sock");
    }

    /// <summary>Where the endpoint of process <paramref name="processId"/> may be, most likely first: under the caller's runtime directory, then the owner's, then the temporary directories.</summary>
    public static IEnumerable<string> CandidatesFor(int processId, uint owner)
    {
        string name = $"{processId}.sock";
        if (OwnRuntimeDirectory(LinuxNative.geteuid()) is { } runtime) yield return Path.Combine(runtime, "meanwhile", name);
        yield return $"/run/user/{owner}/meanwhile/{name}";
        yield return Path.Combine(Path.GetTempPath(), $"meanwhile-{owner}", name);
        yield return $"/tmp/meanwhile-{owner}/{name}";
    }

    /// <summary>$XDG_RUNTIME_DIR if it is set and is a directory of <paramref name="user"/>'s (it is inherited through su and setpriv).</summary>
    private static string? OwnRuntimeDirectory(uint user)
    {
        string? runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        if (string.IsNullOrEmpty(runtime) || !Path.IsPathRooted(runtime)) return null;
        return LinuxNative.StatOwner(runtime, out uint owner, out int type, out _) == 0 && owner == user && type == LinuxNative.S_IFDIR ? runtime : null;
    }

    /// <summary>Removes the sockets of processes that ended without removing theirs (killed, say).</summary>
    private static void RemoveStale(string directory)
    {
        foreach (var file in Directory.EnumerateFiles(directory, "*.sock"))
        {
            if (int.TryParse(Path.GetFileNameWithoutExtension(file), out int pid) && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
            {
                try { File.Delete(file); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
        }
    }
}
