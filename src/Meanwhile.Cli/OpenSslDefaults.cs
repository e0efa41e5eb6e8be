using System.Runtime.InteropServices;

namespace Meanwhile.Cli;

/// <summary>
/// The tool's HTTPS offers AEAD cipher suites only and still resumes sessions. .NET keeps one OpenSSL context per
/// certificate, and with it the session-ticket keys, only when no <c>CipherSuitesPolicy</c> is set, so that policy would
/// cost resumption; but .NET follows OpenSSL's <c>system_default</c> CipherString when the configuration has one. So,
/// unless the user chose an OpenSSL configuration (<c>OPENSSL_CONF</c>), the tool gives OpenSSL one of its own before
/// anything starts OpenSSL: without it, .NET's default list keeps two TLS 1.2 CBC suites, which testssl.sh flags (LUCKY13).
/// </summary>
internal static partial class OpenSslDefaults
{
    /// <summary>ECDHE with AES-GCM or ChaCha20-Poly1305 for TLS 1.2 (TLS 1.3's suites are all AEAD), at OpenSSL's security level 2.</summary>
    internal const string AeadOnlyConfiguration = """
        openssl_conf = meanwhile_init
        [meanwhile_init]
        ssl_conf = meanwhile_ssl
        [meanwhile_ssl]
        system_default = meanwhile_tls
        [meanwhile_tls]
        CipherString = ECDHE+AESGCM:ECDHE+CHACHA20:@SECLEVEL=2

        """;

    private const uint MfdCloexec = 1;

    /// <summary>
    /// Points OpenSSL at <see cref="AeadOnlyConfiguration"/> unless <c>OPENSSL_CONF</c> is set; must run before the first
    /// use of .NET's cryptography in the process (OpenSSL reads its configuration once). Where it cannot (no memfd), .NET's
    /// own list stays.
    /// </summary>
    public static void UseAeadOnlyUnlessConfigured()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("OPENSSL_CONF") is { Length: > 0 }) return;
        // An anonymous in-memory file, open for the process's life: nothing on disk to clean up or to be raced for.
        int fd = MemfdCreate("meanwhile-openssl.cnf", MfdCloexec);
        if (fd < 0) return;
        using (var stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: false), FileAccess.Write))
            stream.Write(System.Text.Encoding.ASCII.GetBytes(AeadOnlyConfiguration));
        // OpenSSL reads the variable with the C library's getenv: Environment.SetEnvironmentVariable would not reach it.
        SetEnv("OPENSSL_CONF", $"/proc/self/fd/{fd}", 0);
    }

    [LibraryImport("libc", EntryPoint = "memfd_create", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MemfdCreate(string name, uint flags);

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
