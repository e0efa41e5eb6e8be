using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Meanwhile.Testing;

/// <summary>ECDSA P-256 certificates made for a test (HTTPS and wss:// suites), written as PEM files in a directory of their own (deleted on dispose).</summary>
public sealed class TestCertificates : IDisposable
{
    public TestCertificates()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("meanwhile-tls-").FullName;
    }

    public string Directory { get; }

    /// <summary>A self-signed server certificate for <paramref name="names"/> (DNS names or IP addresses), written as name.crt and name.key.</summary>
    public (string CertificatePath, string KeyPath, X509Certificate2 Certificate) Server(string name, params string[] names)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={names[0]}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var n in names)
        {
            if (IPAddress.TryParse(n, out var address)) san.AddIpAddress(address);
            else san.AddDnsName(n);
        }
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return (Write(name, certificate, key), Path.Combine(Directory, name + ".key"), certificate);
    }

    /// <summary>A certificate authority and a client certificate it signed (for mutual TLS), with its key.</summary>
    public (X509Certificate2 Authority, X509Certificate2 Client) ClientSignedBy(string subject)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Meanwhile test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        // One clock reading for both: certificates keep whole seconds, so a client certificate made a moment later with
        // the same lifetime could end a second after its authority, which X509 refuses (a CI run met that boundary).
        var now = DateTimeOffset.UtcNow;
        var authority = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        using var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var clientRequest = new CertificateRequest($"CN={subject}", clientKey, HashAlgorithmName.SHA256);
        clientRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var signed = clientRequest.Create(authority, now.AddDays(-1), now.AddDays(29), [1, 2, 3, 4]);
        return (authority, signed.CopyWithPrivateKey(clientKey));
    }

    /// <summary>Writes <paramref name="certificate"/> and <paramref name="key"/> as name.crt and name.key; returns the certificate's path.</summary>
    public string Write(string name, X509Certificate2 certificate, ECDsa key)
    {
        string certificatePath = Path.Combine(Directory, name + ".crt");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(Directory, name + ".key"), key.ExportPkcs8PrivateKeyPem());
        return certificatePath;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
