//! TLS by configuration: `annexa serve --tls-cert FILE --tls-key FILE` serves HTTPS itself
//! (rustls, TLS 1.2 and 1.3, the `ring` provider), for a deployment without a proxy in
//! front. Behind a TLS-terminating proxy, leave it off and give `--public-url https://…`.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the certificate chain and its private key are (PEM).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Reads the files into an acceptor, or says which file is wrong and how.
pub fn acceptor(files: &TlsFiles) -> Result<tokio_rustls::TlsAcceptor, String> {
    let shown = |p: &Path| p.display().to_string();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| format!("--tls-cert {}: {e}", shown(&files.cert)))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--tls-cert {}: {e}", shown(&files.cert)))?;
    if chain.is_empty() {
        return Err(format!("--tls-cert {}: no certificate in it (expected PEM, BEGIN CERTIFICATE)", shown(&files.cert)));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("--tls-key {}: no private key read ({e}; expected PEM, BEGIN PRIVATE KEY)", shown(&files.key)))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("--tls-cert and --tls-key do not make a usable pair: {e}"))?;
    let mut config = config;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
