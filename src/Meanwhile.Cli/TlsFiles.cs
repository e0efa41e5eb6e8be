using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Meanwhile.Cli;

/// <summary>The tool's certificate files: trusted roots for <c>--cacert</c>, and the certificate <c>--tls-self-signed</c> makes.</summary>
internal static class TlsFiles
{
    /// <summary>Reads the PEM certificates of <paramref name="path"/>; returns an error message, or null when it holds at least one.</summary>
    public static string? ReadTrusted(string path, out X509Certificate2Collection roots)
    {
        roots = [];
        if (!File.Exists(path)) return $"--cacert: the file '{path}' does not exist.";
        try
        {
            roots.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            return $"--cacert: cannot read '{path}': {e.Message}";
        }
        return roots.Count == 0 ? $"--cacert: '{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)." : null;
    }

    /// <summary>
    /// Makes an ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1, valid for 30 days, and writes it (cert.pem) and
    /// its key (key.pem, readable by the owner only) to a new directory of its own.
    /// </summary>
    public static (string Directory, string CertificatePath, string KeyPath, X509Certificate2 Certificate) WriteSelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false)); // server authentication
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));

        string directory = Directory.CreateTempSubdirectory("meanwhile-tls-").FullName; // 0700
        string certificatePath = Path.Combine(directory, "cert.pem");
        string keyPath = Path.Combine(directory, "key.pem");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem() + "\n");
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return (directory, certificatePath, keyPath, certificate);
    }

    /// <summary>The SHA-256 fingerprint of <paramref name="certificate"/>, as openssl and browsers print it (AB:CD:…).</summary>
    public static string Fingerprint(X509Certificate2 certificate) =>
        Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)).Chunk(2).Select(pair => new string(pair)).Aggregate((a, b) => a + ":" + b);
}
