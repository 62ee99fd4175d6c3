//! HTTPS served by the server itself (`serve --tls-cert --tls-key`): rustls with the ring
//! provider, the same one the kiosk uses.

use std::path::Path;
use std::sync::Arc;

use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::central::CentralError;

/// The TLS configuration from a PEM certificate chain and its private key, with every
/// problem named with its file (a wrong path, no certificate, a key that does not fit).
pub fn server_config(cert: &Path, key: &Path) -> Result<RustlsConfig, CentralError> {
    let bad = |what: String| CentralError::BadRequest(what);
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            bad(format!(
                "cannot read the certificate {}: {e}",
                cert.display()
            ))
        })?;
    if chain.is_empty() {
        return Err(bad(format!("no certificate in {}", cert.display())));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        bad(format!(
            "cannot read the private key {}: {e}",
            key.display()
        ))
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("TLS set-up: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| {
            bad(format!(
                "the key {} does not fit the certificate {}: {e}",
                key.display(),
                cert.display()
            ))
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}
