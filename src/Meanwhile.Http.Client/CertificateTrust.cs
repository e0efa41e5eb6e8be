using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Meanwhile.Http.Client;

/// <summary>Server certificate validation: the system store by default, or chains built up to given root certificates.</summary>
internal static class CertificateTrust
{
    /// <summary>The validation callback for <paramref name="options"/>; null lets SslStream validate against the system store.</summary>
    public static RemoteCertificateValidationCallback? CallbackFor(LoopHttpClientOptions options)
    {
        if (options.ServerCertificateValidation is { } custom)
        {
            return custom;
        }

        if (options.TrustedRootCertificates is not { } roots)
        {
            return null;
        }

        return (_, certificate, chain, errors) => ChainsTo(roots, certificate, chain, errors);
    }

    private static bool ChainsTo(X509Certificate2Collection roots, X509Certificate? certificate, X509Chain? received, SslPolicyErrors errors)
    {
        // The name check and the presence of a certificate are not about trust: they must pass whatever the roots.
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (received is not null)
        {
            // Intermediates the server sent.
            foreach (var element in received.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }
}
