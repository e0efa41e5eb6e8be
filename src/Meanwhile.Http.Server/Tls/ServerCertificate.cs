using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Meanwhile.Http.Server;

/// <summary>
/// A server certificate with its private key and chain, ready for TLS handshakes; loaded from PEM files or a PFX, and
/// loaded again from the same files by <see cref="Reload"/> (on SIGHUP, say) without touching open connections.
/// </summary>
/// <remarks>
/// The chain is built once per load (an <see cref="SslStreamCertificateContext"/>), not once per handshake. A reload
/// swaps the whole context at once: a handshake uses either the old certificate or the new one, never a mix, and
/// sessions already established keep theirs.
/// </remarks>
public sealed class ServerCertificate
{
    private readonly Func<SslStreamCertificateContext>? _load;
    private volatile SslStreamCertificateContext _context;

    private ServerCertificate(Func<SslStreamCertificateContext>? load, SslStreamCertificateContext context)
    {
        _load = load;
        _context = context;
    }

    /// <summary>The certificate handshakes present now (the leaf).</summary>
    public X509Certificate2 Certificate => _context.TargetCertificate;

    /// <summary>Where it was loaded from, for messages ("cert.pem + key.pem"); "in memory" for <see cref="FromCertificate"/>.</summary>
    public string Source { get; private init; } = "in memory";

    /// <summary>Whether <see cref="Reload"/> can read it again (it came from files).</summary>
    public bool CanReload => _load is not null;

    internal SslStreamCertificateContext Context => _context;

    /// <summary>
    /// Loads a certificate from PEM: <paramref name="certificatePath"/> holds the server's certificate first, then any
    /// intermediate certificates of its chain; <paramref name="keyPath"/> its private key (PKCS#8, RSA or EC). The key
    /// may instead follow the certificates in the same file (null <paramref name="keyPath"/>).
    /// </summary>
    /// <param name="certificatePath">The certificate chain, PEM.</param>
    /// <param name="keyPath">The private key, PEM (unencrypted); null when it is in <paramref name="certificatePath"/>.</param>
    /// <exception cref="CertificateLoadException">A file is missing or unreadable, or the key does not match the certificate.</exception>
    public static ServerCertificate LoadPem(string certificatePath, string? keyPath = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(certificatePath);
        SslStreamCertificateContext Load() => LoadPemContext(certificatePath, keyPath ?? certificatePath);
        return new ServerCertificate(Load, Load()) { Source = keyPath is null ? certificatePath : $"{certificatePath} + {keyPath}" };
    }

    /// <summary>Loads a certificate, its key and chain from a PKCS#12 (PFX) file.</summary>
    /// <param name="path">The PFX file.</param>
    /// <param name="password">Its password; null for none.</param>
    /// <exception cref="CertificateLoadException">The file is missing, unreadable, has no private key, or the password is wrong.</exception>
    public static ServerCertificate LoadPfx(string path, string? password = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SslStreamCertificateContext Load() => LoadPfxContext(path, password);
        return new ServerCertificate(Load, Load()) { Source = path };
    }

    /// <summary>Uses a certificate you already hold (it must have its private key); not reloadable.</summary>
    /// <param name="certificate">The server's certificate with its private key.</param>
    /// <param name="chain">Intermediate certificates sent with it; null for none.</param>
    public static ServerCertificate FromCertificate(X509Certificate2 certificate, X509Certificate2Collection? chain = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey) throw new ArgumentException($"The certificate {certificate.Subject} has no private key.", nameof(certificate));
        return new ServerCertificate(null, SslStreamCertificateContext.Create(certificate, chain, offline: true));
    }

    /// <summary>
    /// Reads the files again and switches to what they hold now; on failure the certificate in use stays and the
    /// exception says why. Does nothing for an in-memory certificate. Safe from any thread.
    /// </summary>
    /// <exception cref="CertificateLoadException">The files cannot be read, or the key does not match.</exception>
    public void Reload()
    {
        if (_load is not null) _context = _load();
    }

    /// <summary>Loads the new context without switching to it (the first half of a reload of several certificates).</summary>
    internal SslStreamCertificateContext? LoadAgain() => _load?.Invoke();

    /// <summary>Switches to a context <see cref="LoadAgain"/> returned.</summary>
    internal void Use(SslStreamCertificateContext context) => _context = context;

    private static SslStreamCertificateContext LoadPemContext(string certificatePath, string keyPath)
    {
        var chain = new X509Certificate2Collection();
        string keyPem;
        try
        {
            chain.ImportFromPemFile(certificatePath);
            keyPem = File.ReadAllText(keyPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new CertificateLoadException(certificatePath, keyPath, $"cannot read {certificatePath} and {keyPath}: {e.Message}", e);
        }
        if (chain.Count == 0) throw new CertificateLoadException(certificatePath, keyPath, $"{certificatePath} holds no PEM certificate");
        var leaf = chain[0];
        bool elliptic = leaf.GetKeyAlgorithm() == "1.2.840.10045.2.1";
        using AsymmetricAlgorithm key = elliptic ? ECDsa.Create() : RSA.Create();
        try
        {
            key.ImportFromPem(keyPem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new CertificateLoadException(certificatePath, keyPath,
                $"{keyPath} holds no unencrypted {(elliptic ? "EC" : "RSA")} private key for the certificate in {certificatePath} ({e.Message.TrimEnd('.')})", e);
        }
        X509Certificate2 withKey;
        try
        {
            withKey = elliptic ? leaf.CopyWithPrivateKey((ECDsa)key) : leaf.CopyWithPrivateKey((RSA)key);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new CertificateLoadException(certificatePath, keyPath, $"the key in {keyPath} does not match the certificate in {certificatePath}", e);
        }
        chain.RemoveAt(0);
        return SslStreamCertificateContext.Create(withKey, chain, offline: true);
    }

    private static SslStreamCertificateContext LoadPfxContext(string path, string? password)
    {
        X509Certificate2Collection all;
        try
        {
            all = X509CertificateLoader.LoadPkcs12CollectionFromFile(path, password);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new CertificateLoadException(path, null, $"cannot read {path}: {e.Message}", e);
        }
        X509Certificate2? leaf = null;
        var chain = new X509Certificate2Collection();
        foreach (var certificate in all)
        {
            if (leaf is null && certificate.HasPrivateKey) leaf = certificate;
            else chain.Add(certificate);
        }
        if (leaf is null) throw new CertificateLoadException(path, null, $"{path} holds no certificate with a private key");
        return SslStreamCertificateContext.Create(leaf, chain, offline: true);
    }
}
