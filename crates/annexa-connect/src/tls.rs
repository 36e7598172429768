//! TLS client settings shared by the LDAP and SCIM connectors: rustls with the ring
//! provider, the server certificate always verified.

/// The TLS client configuration trusting only the CA certificates in `path`.
pub fn client_config(path: &std::path::Path) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let shown = path.display();
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| format!("cannot read the CA file {shown}: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        let cert = cert.map_err(|e| format!("the CA file {shown} is not valid PEM: {e}"))?;
        roots.add(cert).map_err(|e| format!("the CA file {shown} holds an unusable certificate: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!("the CA file {shown} holds no certificate (expected PEM `BEGIN CERTIFICATE` blocks)"));
    }
    rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}
