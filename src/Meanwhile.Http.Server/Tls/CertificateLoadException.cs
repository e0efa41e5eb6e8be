namespace Meanwhile.Http.Server;

/// <summary>A server certificate could not be loaded: a file is missing or unreadable, or its key does not match it.</summary>
public sealed class CertificateLoadException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="certificatePath">The certificate file (PEM or PFX).</param>
    /// <param name="keyPath">The key file; null for a PFX.</param>
    /// <param name="message">What went wrong, naming the files.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public CertificateLoadException(string certificatePath, string? keyPath, string message, Exception? inner = null) : base(message, inner)
    {
        CertificatePath = certificatePath;
        KeyPath = keyPath;
    }

    /// <summary>The certificate file (PEM or PFX).</summary>
    public string CertificatePath { get; }

    /// <summary>The key file, for PEM; null for a PFX.</summary>
    public string? KeyPath { get; }
}
