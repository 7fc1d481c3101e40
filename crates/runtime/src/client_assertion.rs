//! The client assertion of ActiveDirectoryOAuth with a certificate credential (RFC 7523, as
//! Microsoft Entra ID takes it): a JWT signed RS256 with the PFX's private key, whose `x5t`
//! header is the base64url SHA-1 thumbprint of the certificate, and whose claims are `aud` =
//! the token endpoint, `iss` = `sub` = the client id, a fresh `jti`, `nbf` and `exp`. It is
//! sent as `client_assertion` with `client_assertion_type` = jwt-bearer instead of a secret.

use crate::credentials::Failure;
use base64::Engine as _;
use openssl::{hash::MessageDigest, pkcs12::Pkcs12, pkey::PKey, sign::Signer};
use serde_json::json;

/// How long an assertion is valid: long enough for one token request.
const LIFETIME_SECONDS: i64 = 600;

/// The `client_assertion_type` of a JWT client assertion.
pub(crate) const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A signed assertion for `client_id` at `endpoint`, issued at `now` (Unix seconds).
pub(crate) fn client_assertion(
    pfx_base64: &str,
    password: &str,
    client_id: &str,
    endpoint: &str,
    now: i64,
    jti: &str,
) -> Result<String, Failure> {
    let invalid = |what: &str| {
        (
            "InvalidClientCertificate",
            format!("authentication.pfx: {what}"),
        )
    };
    let der = base64::engine::general_purpose::STANDARD
        .decode(pfx_base64.trim())
        .map_err(|_| invalid("the certificate is not valid base64"))?;
    // The password is not in the message: a wrong one and a broken file read alike.
    let parsed = Pkcs12::from_der(&der)
        .and_then(|p| p.parse2(password))
        .map_err(|_| {
            invalid("the PKCS#12 certificate could not be read (wrong password or not a PFX file)")
        })?;
    let (Some(certificate), Some(key)) = (parsed.cert, parsed.pkey) else {
        return Err(invalid("the PFX holds no certificate with its private key"));
    };
    let thumbprint = certificate
        .digest(MessageDigest::sha1())
        .map_err(|e| invalid(&e.to_string()))?;
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = json!({ "alg": "RS256", "typ": "JWT", "x5t": url.encode(thumbprint) });
    let claims = json!({
        "aud": endpoint,
        "iss": client_id,
        "sub": client_id,
        "jti": jti,
        "nbf": now,
        "iat": now,
        "exp": now + LIFETIME_SECONDS,
    });
    let signing_input = format!(
        "{}.{}",
        url.encode(header.to_string()),
        url.encode(claims.to_string())
    );
    let signature = sign_rs256(&key, signing_input.as_bytes())
        .map_err(|e| invalid(&format!("signing the client assertion failed: {e}")))?;
    Ok(format!("{signing_input}.{}", url.encode(signature)))
}

/// RSASSA-PKCS1-v1_5 with SHA-256.
fn sign_rs256(
    key: &PKey<openssl::pkey::Private>,
    data: &[u8],
) -> Result<Vec<u8>, openssl::error::ErrorStack> {
    let mut signer = Signer::new(MessageDigest::sha256(), key)?;
    signer.update(data)?;
    signer.sign_to_vec()
}

/// The form body of a client-credentials grant authenticated by an assertion.
pub(crate) fn assertion_form(client_id: &str, assertion: &str, audience: &str) -> String {
    fn encode(v: &str) -> percent_encoding::PercentEncode<'_> {
        percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
    }
    format!(
        "grant_type=client_credentials&client_id={}&client_assertion_type={}&client_assertion={}&resource={}",
        encode(client_id),
        encode(ASSERTION_TYPE),
        encode(assertion),
        encode(audience)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::{
        asn1::Asn1Time, bn::BigNum, pkcs12::Pkcs12, rsa::Rsa, sign::Verifier, x509::X509,
    };

    /// A self-signed certificate with its key in a PFX, base64.
    fn pfx(password: &str) -> (String, X509) {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut builder = X509::builder().unwrap();
        builder.set_version(2).unwrap();
        let serial = BigNum::from_u32(7).unwrap().to_asn1_integer().unwrap();
        builder.set_serial_number(&serial).unwrap();
        builder.set_pubkey(&key).unwrap();
        builder
            .set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        builder
            .set_not_after(&Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        builder.sign(&key, MessageDigest::sha256()).unwrap();
        let cert = builder.build();
        let der = Pkcs12::builder()
            .name("client")
            .pkey(&key)
            .cert(&cert)
            .build2(password)
            .unwrap()
            .to_der()
            .unwrap();
        (base64::engine::general_purpose::STANDARD.encode(der), cert)
    }

    #[test]
    fn the_assertion_is_a_jwt_the_certificate_verifies() {
        let (pfx, cert) = pfx("pw");
        let endpoint = "https://login.example.test/contoso/oauth2/token";
        let jwt = client_assertion(&pfx, "pw", "client-1", endpoint, 1_000, "jti-1").unwrap();
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let parts: Vec<&str> = jwt.split('.').collect();
        let part = |i: usize| -> serde_json::Value {
            serde_json::from_slice(&url.decode(parts[i]).unwrap()).unwrap()
        };
        let thumbprint = url.encode(cert.digest(MessageDigest::sha1()).unwrap());
        assert_eq!(
            part(0),
            json!({ "alg": "RS256", "typ": "JWT", "x5t": thumbprint })
        );
        assert_eq!(
            part(1),
            json!({ "aud": endpoint, "iss": "client-1", "sub": "client-1", "jti": "jti-1",
                    "nbf": 1_000, "iat": 1_000, "exp": 1_600 })
        );
        let public = cert.public_key().unwrap();
        let mut verifier = Verifier::new(MessageDigest::sha256(), &public).unwrap();
        verifier
            .update(format!("{}.{}", parts[0], parts[1]).as_bytes())
            .unwrap();
        assert!(verifier.verify(&url.decode(parts[2]).unwrap()).unwrap());
    }

    #[test]
    fn a_wrong_password_names_no_secret() {
        let (pfx, _) = pfx("right-password");
        let (code, message) =
            client_assertion(&pfx, "wrong-password", "c", "https://x.test/", 0, "j").unwrap_err();
        assert_eq!(code, "InvalidClientCertificate");
        assert!(!message.contains("password-"), "{message}");
    }
}
