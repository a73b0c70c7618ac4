//! Token-signing keys as organisations register them: a JWKS document checked at onboarding, and the verification
//! key of each stored JWK. Only public EdDSA (Ed25519) and ES256 (P-256) keys are accepted.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};

/// A registered verification key.
#[derive(Clone)]
pub struct TokenKey {
    pub alg: Algorithm,
    pub key: DecodingKey,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Why a JWKS was refused at onboarding.
#[derive(Debug, thiserror::Error)]
#[error("jwks: {0}")]
pub struct JwksError(pub String);

/// A key accepted from a JWKS: its id, algorithm name and canonical public JWK.
#[derive(Debug, Clone)]
pub struct AcceptedKey {
    pub kid: String,
    pub alg: &'static str,
    pub jwk: String,
    /// RFC 7638 thumbprint.
    pub thumbprint: String,
}

/// Checks a JWKS document: 1–10 public EdDSA (Ed25519) or ES256 (P-256) signing keys with unique, well-formed
/// `kid`s. Private key material (`d`) is refused outright.
///
/// # Errors
/// The document names the first problem it finds.
pub fn parse_jwks(jwks: &serde_json::Value) -> Result<Vec<AcceptedKey>, JwksError> {
    let err = |m: String| JwksError(m);
    let keys = jwks
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or_else(|| err("must be an object with a `keys` array".into()))?;
    if keys.is_empty() || keys.len() > 10 {
        return Err(err("must hold between 1 and 10 keys".into()));
    }
    let mut accepted: Vec<AcceptedKey> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let k = accept_key(key).map_err(|m| err(format!("key {i}: {m}")))?;
        if accepted.iter().any(|a| a.kid == k.kid) {
            return Err(err(format!("key {i}: kid is used twice")));
        }
        if accepted.iter().any(|a| a.thumbprint == k.thumbprint) {
            return Err(err(format!("key {i}: the same key is listed twice")));
        }
        accepted.push(k);
    }
    Ok(accepted)
}

fn accept_key(key: &serde_json::Value) -> Result<AcceptedKey, String> {
    let obj = key.as_object().ok_or("must be a JSON object")?;
    if obj.contains_key("d") {
        return Err("holds private key material; register only the public key".into());
    }
    let field = |name: &str| obj.get(name).and_then(|v| v.as_str());
    let kid = field("kid").ok_or("needs a `kid`")?;
    if kid.is_empty() || kid.len() > 128 || !kid.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return Err("`kid` must be 1–128 characters of A–Z, a–z, 0–9, '-', '_', '.'".into());
    }
    if let Some(u) = field("use") {
        if u != "sig" {
            return Err("`use` must be `sig`".into());
        }
    }
    let (alg, coord_fields): (&'static str, &[&str]) = match (field("kty"), field("crv")) {
        (Some("OKP"), Some("Ed25519")) => ("EdDSA", &["x"]),
        (Some("EC"), Some("P-256")) => ("ES256", &["x", "y"]),
        _ => return Err("only OKP/Ed25519 (EdDSA) and EC/P-256 (ES256) keys are accepted".into()),
    };
    if let Some(a) = field("alg") {
        if a != alg {
            return Err(format!("`alg` must be {alg} for this key type"));
        }
    }
    let mut coordinates = Vec::new();
    for c in coord_fields {
        let raw = field(c).and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
        match raw {
            Some(r) if r.len() == 32 => coordinates.push(r),
            _ => return Err(format!("`{c}` must be a base64url 32-byte coordinate")),
        }
    }
    if !on_curve(alg, &coordinates) {
        return Err("is not a point on its curve (not a public key)".into());
    }
    let jwk = serde_json::to_string(key).map_err(|_| "cannot be serialised")?;
    decoding_key(alg, &jwk).map_err(|_| "is not a usable public key".to_owned())?;
    Ok(AcceptedKey {
        kid: kid.to_owned(),
        alg,
        thumbprint: thumbprint(&jwk).ok_or("cannot be serialised")?,
        jwk,
    })
}

/// Whether the coordinates are a public key of the algorithm's curve (an off-curve P-256 point or an Ed25519 value
/// that does not decompress would only fail later, at the first token).
fn on_curve(alg: &str, coordinates: &[Vec<u8>]) -> bool {
    match (alg, coordinates) {
        ("EdDSA", [x]) => {
            <[u8; 32]>::try_from(x.as_slice()).is_ok_and(|x| ed25519_dalek::VerifyingKey::from_bytes(&x).is_ok())
        }
        ("ES256", [x, y]) => {
            let mut sec1 = vec![0x04];
            sec1.extend_from_slice(x);
            sec1.extend_from_slice(y);
            p256::PublicKey::from_sec1_bytes(&sec1).is_ok()
        }
        _ => false,
    }
}

/// The RFC 7638 thumbprint of a stored JWK (base64url SHA-256 of its required members in order): one value per
/// key whatever its `kid`, to tell whether a key is registered already, and to show administrators.
pub fn thumbprint(jwk: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(jwk).ok()?;
    let member = |name: &str| v.get(name).and_then(|m| m.as_str());
    let canonical = match member("kty")? {
        "OKP" => serde_json::json!({"crv": member("crv")?, "kty": "OKP", "x": member("x")?}),
        "EC" => serde_json::json!({"crv": member("crv")?, "kty": "EC", "x": member("x")?, "y": member("y")?}),
        _ => return None,
    };
    // serde_json writes object members sorted by name and without white space, as RFC 7638 asks.
    let text = serde_json::to_string(&canonical).ok()?;
    Some(URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref()))
}

/// The verification key of a stored JWK.
///
/// # Errors
/// The JWK or algorithm name is not one we accept.
pub fn decoding_key(alg: &str, jwk: &str) -> Result<TokenKey, JwksError> {
    let alg = match alg {
        "EdDSA" => Algorithm::EdDSA,
        "ES256" => Algorithm::ES256,
        _ => return Err(JwksError("unsupported algorithm".into())),
    };
    let jwk: Jwk = serde_json::from_str(jwk).map_err(|_| JwksError("not a JWK".into()))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| JwksError("not a usable key".into()))?;
    Ok(TokenKey { alg, key })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::pki::TokenKeyPair;

    #[test]
    fn jwks_refuses_private_keys_and_unknown_types() {
        let key = TokenKeyPair::generate().unwrap();
        assert_eq!(parse_jwks(&key.jwks()).unwrap().len(), 1);
        let mut private = key.public_jwk.clone();
        private["d"] = serde_json::json!("AAAA");
        assert!(parse_jwks(&serde_json::json!({"keys": [private]})).is_err());
        let rsa = serde_json::json!({"keys": [{"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"}]});
        assert!(parse_jwks(&rsa).is_err());
        assert!(parse_jwks(&serde_json::json!({"keys": []})).is_err());
        assert!(parse_jwks(&serde_json::json!([1, 2])).is_err());
    }
}
