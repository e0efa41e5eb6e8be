namespace Meanwhile.Http.Server;

/// <summary>Whether an HTTPS server asks clients for certificates (mutual TLS).</summary>
public enum ClientCertificatePolicy
{
    /// <summary>Clients are not asked for a certificate.</summary>
    None,

    /// <summary>Clients are asked; one without a certificate is still served, one with a certificate that fails validation is refused.</summary>
    Optional,

    /// <summary>Clients must present a certificate that passes validation; the handshake fails otherwise.</summary>
    Required,
}
