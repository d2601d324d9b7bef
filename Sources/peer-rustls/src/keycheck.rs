//! Whether a private key belongs to its certificate. rustls 0.20 loads a certificate and a key
//! without comparing them, and the protocol makes a key that does not match a `setup` failure, so
//! the key signs a message here and webpki checks it with the certificate's public key.

use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;

/// Each scheme a key type can sign with, and webpki's algorithm that verifies it.
static SCHEMES: [(SignatureScheme, &webpki::SignatureAlgorithm); 5] = [
    (
        SignatureScheme::ECDSA_NISTP256_SHA256,
        &webpki::ECDSA_P256_SHA256,
    ),
    (
        SignatureScheme::ECDSA_NISTP384_SHA384,
        &webpki::ECDSA_P384_SHA384,
    ),
    (SignatureScheme::ED25519, &webpki::ED25519),
    (
        SignatureScheme::RSA_PSS_SHA256,
        &webpki::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    ),
    (
        SignatureScheme::RSA_PKCS1_SHA256,
        &webpki::RSA_PKCS1_2048_8192_SHA256,
    ),
];

pub fn check_pair(pair: &CertifiedKey) -> Result<(), String> {
    let cert = pair
        .end_entity_cert()
        .map_err(|_| "no certificate".to_string())?;
    let end_entity = webpki::EndEntityCert::try_from(cert.0.as_slice())
        .map_err(|e| format!("webpki cannot read the certificate: {:?}", e))?;
    let offered: Vec<SignatureScheme> = SCHEMES.iter().map(|(s, _)| *s).collect();
    let signer = pair
        .key
        .choose_scheme(&offered)
        .ok_or_else(|| "the key signs with none of the schemes rustls implements".to_string())?;
    let message = b"interop-matrix: does this key belong to its certificate?";
    let signature = signer
        .sign(message)
        .map_err(|e| format!("the key cannot sign: {}", e))?;
    let algorithm = SCHEMES
        .iter()
        .find(|(s, _)| *s == signer.scheme())
        .map(|(_, a)| *a)
        .ok_or_else(|| format!("no verifier for {:?}", signer.scheme()))?;
    end_entity
        .verify_signature(algorithm, message, &signature)
        .map_err(|e| {
            format!(
                "the private key does not match the certificate (webpki: {:?})",
                e
            )
        })
}
