using System.Runtime.InteropServices;

namespace Meanwhile;

/// <summary>
/// The part of OpenSSL 3 (libssl.so.3, libcrypto.so.3: the libraries .NET itself uses on Linux) that the TLS engine on
/// descriptors calls (<see cref="OpenSslServerEngine"/>). Blittable signatures only: no runtime marshalling, so Native
/// AOT calls them directly.
/// </summary>
internal static unsafe partial class OpenSslNative
{
    private const string LibSsl = "libssl.so.3";
    private const string LibCrypto = "libcrypto.so.3";

    public const int TLS1_2_VERSION = 0x0303;
    public const int TLS1_3_VERSION = 0x0304;

    public const int SSL_CTRL_MODE = 33;
    public const int SSL_CTRL_SET_READ_AHEAD = 41;
    public const int SSL_CTRL_SET_SESS_CACHE_MODE = 44;
    public const int SSL_CTRL_SET_TLSEXT_SERVERNAME_CB = 53;
    public const int SSL_CTRL_SET_TLSEXT_SERVERNAME_ARG = 54;
    public const int SSL_CTRL_CHAIN_CERT = 89;
    public const int SSL_CTRL_SET_MIN_PROTO_VERSION = 123;
    public const int SSL_CTRL_SET_MAX_PROTO_VERSION = 124;

    public const long SSL_MODE_ENABLE_PARTIAL_WRITE = 0x1;
    public const long SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = 0x2;
    public const long SSL_MODE_RELEASE_BUFFERS = 0x10;
    public const long SSL_SESS_CACHE_SERVER = 0x2;

    public const ulong SSL_OP_IGNORE_UNEXPECTED_EOF = 1UL << 7;
    public const ulong SSL_OP_NO_COMPRESSION = 1UL << 17;
    public const ulong SSL_OP_NO_RENEGOTIATION = 1UL << 30;

    public const int SSL_VERIFY_NONE = 0;
    public const int SSL_VERIFY_PEER = 1;

    public const int SSL_ERROR_NONE = 0;
    public const int SSL_ERROR_SSL = 1;
    public const int SSL_ERROR_WANT_READ = 2;
    public const int SSL_ERROR_WANT_WRITE = 3;
    public const int SSL_ERROR_SYSCALL = 5;
    public const int SSL_ERROR_ZERO_RETURN = 6;

    public const int SSL_TLSEXT_ERR_OK = 0;
    public const int SSL_TLSEXT_ERR_ALERT_FATAL = 2;
    public const int SSL_TLSEXT_ERR_NOACK = 3;

    public const int TLSEXT_NAMETYPE_host_name = 0;

    /// <summary>Whether libssl.so.3 and libcrypto.so.3 load in this process (Linux with OpenSSL 3).</summary>
    public static bool IsAvailable { get; } = Probe();

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux()) return false;
        if (!NativeLibrary.TryLoad(LibSsl, typeof(OpenSslNative).Assembly, null, out _)) return false;
        return NativeLibrary.TryLoad(LibCrypto, typeof(OpenSslNative).Assembly, null, out _);
    }

    // Contexts
    [LibraryImport(LibSsl)] public static partial nint TLS_server_method();
    [LibraryImport(LibSsl)] public static partial nint SSL_CTX_new(nint method);
    [LibraryImport(LibSsl)] public static partial void SSL_CTX_free(nint context);
    [LibraryImport(LibSsl)] public static partial long SSL_CTX_ctrl(nint context, int command, long larg, nint parg);
    [LibraryImport(LibSsl)] public static partial long SSL_CTX_callback_ctrl(nint context, int command, nint callback);
    [LibraryImport(LibSsl)] public static partial ulong SSL_CTX_set_options(nint context, ulong options);
    [LibraryImport(LibSsl)] public static partial int SSL_CTX_use_certificate(nint context, nint x509);
    [LibraryImport(LibSsl)] public static partial int SSL_CTX_use_PrivateKey(nint context, nint key);
    [LibraryImport(LibSsl)] public static partial int SSL_CTX_check_private_key(nint context);
    [LibraryImport(LibSsl)] public static partial int SSL_CTX_set_cipher_list(nint context, byte* list);
    [LibraryImport(LibSsl)] public static partial int SSL_CTX_set_ciphersuites(nint context, byte* list);
    [LibraryImport(LibSsl)] public static partial nint SSL_CTX_get_ciphers(nint context);
    [LibraryImport(LibSsl)] public static partial int SSL_CTX_set_session_id_context(nint context, byte* id, uint length);
    [LibraryImport(LibSsl)] public static partial void SSL_CTX_set_alpn_select_cb(nint context, delegate* unmanaged<nint, byte**, byte*, byte*, uint, nint, int> callback, nint arg);
    [LibraryImport(LibSsl)] public static partial void SSL_CTX_set_cert_verify_callback(nint context, delegate* unmanaged<nint, nint, int> callback, nint arg);
    [LibraryImport(LibSsl)] public static partial nint SSL_CIPHER_get_name(nint cipher);
    [LibraryImport(LibSsl)] public static partial ushort SSL_CIPHER_get_protocol_id(nint cipher);
    [LibraryImport(LibSsl)] public static partial nint SSL_CIPHER_find(nint ssl, byte* id);

    // Sessions
    [LibraryImport(LibSsl)] public static partial nint SSL_new(nint context);
    [LibraryImport(LibSsl)] public static partial void SSL_free(nint ssl);
    [LibraryImport(LibSsl)] public static partial int SSL_set_fd(nint ssl, int fd);
    [LibraryImport(LibSsl)] public static partial void SSL_set_accept_state(nint ssl);
    [LibraryImport(LibSsl, SetLastError = true)] public static partial int SSL_do_handshake(nint ssl);
    [LibraryImport(LibSsl, SetLastError = true)] public static partial int SSL_read(nint ssl, byte* buffer, int count);
    [LibraryImport(LibSsl, SetLastError = true)] public static partial int SSL_write(nint ssl, byte* buffer, int count);
    // Reads two fields of the record layer: no system call, no callback, no lock, so no GC transition is needed.
    [LibraryImport(LibSsl), SuppressGCTransition] public static partial int SSL_has_pending(nint ssl);
    [LibraryImport(LibSsl)] public static partial int SSL_get_error(nint ssl, int result);
    [LibraryImport(LibSsl)] public static partial int SSL_shutdown(nint ssl);
    [LibraryImport(LibSsl)] public static partial int SSL_set_ex_data(nint ssl, int index, nint data);
    [LibraryImport(LibSsl)] public static partial nint SSL_get_ex_data(nint ssl, int index);
    [LibraryImport(LibSsl)] public static partial int SSL_get_ex_data_X509_STORE_CTX_idx();
    [LibraryImport(LibSsl)] public static partial nint SSL_get_servername(nint ssl, int type);
    [LibraryImport(LibSsl)] public static partial nint SSL_set_SSL_CTX(nint ssl, nint context);
    [LibraryImport(LibSsl)] public static partial void SSL_set_verify(nint ssl, int mode, nint callback);
    [LibraryImport(LibSsl)] public static partial void SSL_get0_alpn_selected(nint ssl, byte** data, uint* length);
    [LibraryImport(LibSsl)] public static partial int SSL_version(nint ssl);
    [LibraryImport(LibSsl)] public static partial nint SSL_get_current_cipher(nint ssl);
    [LibraryImport(LibSsl)] public static partial nint SSL_get1_peer_certificate(nint ssl);
    [LibraryImport(LibSsl)] public static partial nint SSL_get_peer_cert_chain(nint ssl);
    [LibraryImport(LibSsl)] public static partial int SSL_session_reused(nint ssl);

    // Errors, certificates, keys, stacks
    [LibraryImport(LibCrypto)] public static partial void ERR_clear_error();
    [LibraryImport(LibCrypto)] public static partial ulong ERR_get_error();
    [LibraryImport(LibCrypto)] public static partial ulong ERR_peek_error();
    [LibraryImport(LibCrypto)] public static partial void ERR_error_string_n(ulong error, byte* buffer, nuint length);
    [LibraryImport(LibCrypto)] public static partial nint d2i_X509(nint reuse, byte** data, long length);
    [LibraryImport(LibCrypto)] public static partial int i2d_X509(nint x509, byte** output);
    [LibraryImport(LibCrypto)] public static partial void X509_free(nint x509);
    [LibraryImport(LibCrypto)] public static partial nint d2i_AutoPrivateKey(nint reuse, byte** data, long length);
    [LibraryImport(LibCrypto)] public static partial void EVP_PKEY_free(nint key);
    [LibraryImport(LibCrypto)] public static partial nint X509_STORE_CTX_get_ex_data(nint storeContext, int index);
    [LibraryImport(LibCrypto)] public static partial nint X509_STORE_CTX_get0_cert(nint storeContext);
    [LibraryImport(LibCrypto)] public static partial nint X509_STORE_CTX_get0_untrusted(nint storeContext);
    [LibraryImport(LibCrypto)] public static partial int OPENSSL_sk_num(nint stack);
    [LibraryImport(LibCrypto)] public static partial nint OPENSSL_sk_value(nint stack, int index);
    [LibraryImport(LibCrypto)] public static partial int RAND_bytes(byte* buffer, int count);

    /// <summary>
    /// OpenSSL's error queue (per thread) emptied into one line. Called on failure paths only: every call that fails
    /// leaves the queue empty, which is what lets the success paths skip <c>ERR_clear_error</c> (SslStream calls it
    /// around each interop call).
    /// </summary>
    public static string TakeErrors(string fallback)
    {
        string? text = null;
        ulong code;
        byte* buffer = stackalloc byte[256];
        while ((code = ERR_get_error()) != 0)
        {
            if (text is not null) continue; // the first error is the cause; the rest are drained
            ERR_error_string_n(code, buffer, 256);
            text = Marshal.PtrToStringUTF8((nint)buffer);
        }
        return text ?? fallback;
    }

    /// <summary>The DER of an OpenSSL certificate.</summary>
    public static byte[] ExportCertificate(nint x509)
    {
        int length = i2d_X509(x509, null);
        if (length <= 0) return [];
        var der = new byte[length];
        fixed (byte* start = der)
        {
            byte* p = start;
            i2d_X509(x509, &p);
        }
        return der;
    }

    /// <summary>An OpenSSL certificate from DER (0 when OpenSSL refuses it); the caller frees it.</summary>
    public static nint ImportCertificate(ReadOnlySpan<byte> der)
    {
        fixed (byte* start = der)
        {
            byte* p = start;
            return d2i_X509(0, &p, der.Length);
        }
    }

    /// <summary>An OpenSSL private key from PKCS#8 DER (0 when OpenSSL refuses it); the caller frees it.</summary>
    public static nint ImportPrivateKey(ReadOnlySpan<byte> pkcs8)
    {
        fixed (byte* start = pkcs8)
        {
            byte* p = start;
            return d2i_AutoPrivateKey(0, &p, pkcs8.Length);
        }
    }
}
