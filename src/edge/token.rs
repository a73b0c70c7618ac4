//! Certificate-bound bearer tokens (contract, "Identity"): verification of a professional's token against the
//! organisation's registered keys, a cache of verified tokens, and signing for the development helper.
//!
//! The algorithm comes from the registered key, never from the token header; `exp`, `nbf` and `iat` are typed
//! integers checked against the gateway's clock with an explicit leeway; `jku`, `x5u` and embedded keys are
//! refused, never fetched.
use jsonwebtoken::{Algorithm, EncodingKey, Header, Validation};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::crypto::pki::TokenKeyPair;
use crate::orgs::registry::Organisation;
use crate::types::UserRole;

/// Longest lifetime (`exp - iat`) a token may have.
pub const MAX_LIFETIME_SECS: i64 = 3600;
/// Tokens longer than this are refused before parsing.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Why a token was refused. The messages are fixed texts: a refusal never echoes the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    Invalid(&'static str),
    #[error("the token is not bound to the certificate of this connection")]
    NotBound,
    #[error("the token claims a role that only the host organisation can hold")]
    RoleNotAllowed,
}

/// The professional behind a request, from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub sub: String,
    pub roles: Vec<UserRole>,
    pub exp: i64,
    /// The certificate thumbprint the token is bound to.
    pub thumbprint: String,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    iat: i64,
    nbf: Option<i64>,
    roles: Vec<String>,
    cnf: Confirmation,
}

#[derive(Deserialize)]
struct Confirmation {
    #[serde(rename = "x5t#S256")]
    x5t_s256: String,
}

/// Verifies tokens; owns the cache of verified tokens.
#[derive(Debug)]
pub struct TokenVerifier {
    audience: String,
    leeway: i64,
    host_oin: String,
    cache: Option<TokenCache>,
}

impl TokenVerifier {
    /// `cache_entries` 0 turns the cache off.
    pub fn new(audience: &str, leeway_secs: u64, host_oin: &str, cache_entries: usize) -> TokenVerifier {
        TokenVerifier {
            audience: audience.to_owned(),
            leeway: i64::try_from(leeway_secs.min(600)).unwrap_or(600),
            host_oin: host_oin.to_owned(),
            cache: (cache_entries > 0).then(|| TokenCache::new(cache_entries)),
        }
    }

    /// Verifies `token`, presented by `org` over a connection whose client certificate has `thumbprint`, at unix
    /// time `now`. `generation` is the registry generation the organisation was read at: a cached result from
    /// another generation (keys rotated, organisation changed) is not reused.
    ///
    /// # Errors
    /// Every way a token can fail, as a [`TokenError`].
    pub fn verify(
        &self,
        token: &str,
        org: &Organisation,
        thumbprint: &str,
        now: i64,
        generation: i64,
    ) -> Result<Arc<VerifiedToken>, TokenError> {
        let cache_key = self.cache.as_ref().map(|_| TokenCache::key(token));
        if let (Some(cache), Some(key)) = (&self.cache, &cache_key) {
            if let Some(hit) = cache.get(key, org.oin.as_str(), generation) {
                return self.recheck(hit, thumbprint, now);
            }
        }
        let verified = Arc::new(self.verify_uncached(token, org, now)?);
        if let (Some(cache), Some(key)) = (&self.cache, cache_key) {
            cache.put(key, org.oin.as_str(), generation, verified.clone(), now);
        }
        self.recheck(verified, thumbprint, now)
    }

    /// The checks that depend on the moment and the connection; done on every use, cached or not.
    fn recheck(&self, t: Arc<VerifiedToken>, thumbprint: &str, now: i64) -> Result<Arc<VerifiedToken>, TokenError> {
        if now > t.exp.saturating_add(self.leeway) {
            return Err(TokenError::Invalid("the token has expired"));
        }
        if !crate::crypto::constant_time_eq(t.thumbprint.as_bytes(), thumbprint.as_bytes()) {
            return Err(TokenError::NotBound);
        }
        Ok(t)
    }

    fn verify_uncached(&self, token: &str, org: &Organisation, now: i64) -> Result<VerifiedToken, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Invalid("the token is too long"));
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| TokenError::Invalid("the token is not a well-formed JWT"))?;
        check_header(&header)?;
        let kid = header
            .kid
            .as_deref()
            .ok_or(TokenError::Invalid("the token header has no kid"))?;
        let key = org.keys.get(kid).ok_or(TokenError::Invalid(
            "the token's kid is not a registered key of this organisation",
        ))?;
        if header.alg != key.alg {
            return Err(TokenError::Invalid(
                "the token's algorithm does not match the registered key",
            ));
        }
        let mut validation = Validation::new(key.alg);
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&[org.oin.as_str()]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        // Times are checked below against the gateway's clock, as typed integers.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(token, &key.key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            TokenError::Invalid(match e.kind() {
                ErrorKind::InvalidSignature => "the token signature does not verify",
                ErrorKind::InvalidAudience => "the token's audience is not this gateway",
                ErrorKind::InvalidIssuer => "the token's issuer is not the OIN of this connection's organisation",
                ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim (exp, iat, sub, iss, aud)",
                _ => "the token's claims are malformed",
            })
        })?;
        let claims = data.claims;
        self.check_times(&claims, now)?;
        if !valid_sub(&claims.sub) {
            return Err(TokenError::Invalid(
                "the token's sub must be 1–256 visible ASCII characters (no spaces or control characters)",
            ));
        }
        let roles = claims
            .roles
            .iter()
            .map(|r| r.parse::<UserRole>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| TokenError::Invalid("the token names a role outside the fixed set"))?;
        if org.oin.as_str() != self.host_oin && roles.iter().any(|r| r.host_only()) {
            return Err(TokenError::RoleNotAllowed);
        }
        Ok(VerifiedToken {
            sub: claims.sub,
            roles,
            exp: claims.exp,
            thumbprint: claims.cnf.x5t_s256,
        })
    }

    fn check_times(&self, c: &Claims, now: i64) -> Result<(), TokenError> {
        let lifetime = c.exp.saturating_sub(c.iat);
        if lifetime <= 0 || lifetime > MAX_LIFETIME_SECS {
            return Err(TokenError::Invalid(
                "the token's lifetime (exp - iat) must be positive and at most one hour",
            ));
        }
        if c.iat > now.saturating_add(self.leeway) {
            return Err(TokenError::Invalid("the token was issued in the future"));
        }
        if c.nbf.is_some_and(|nbf| nbf > now.saturating_add(self.leeway)) {
            return Err(TokenError::Invalid("the token is not valid yet (nbf)"));
        }
        if now > c.exp.saturating_add(self.leeway) {
            return Err(TokenError::Invalid("the token has expired"));
        }
        Ok(())
    }
}

/// A professional's identifier as records and pages show it: 1–256 visible ASCII characters, so that no control
/// character, line break or direction override reaches a record, a log line or a page.
fn valid_sub(sub: &str) -> bool {
    (1..=256).contains(&sub.len()) && sub.bytes().all(|b| b.is_ascii_graphic())
}

fn check_header(h: &Header) -> Result<(), TokenError> {
    match h.typ.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("jwt" | "at+jwt" | "application/at+jwt") => {}
        _ => return Err(TokenError::Invalid("the token's typ must be JWT or at+jwt")),
    }
    if h.jku.is_some() || h.x5u.is_some() || h.jwk.is_some() || h.x5c.is_some() {
        return Err(TokenError::Invalid(
            "token headers jku, x5u, jwk and x5c are not accepted",
        ));
    }
    if h.crit.is_some() {
        return Err(TokenError::Invalid(
            "the token has critical header extensions this gateway does not know",
        ));
    }
    Ok(())
}

/// Verified tokens by SHA-256 of the token text, bounded in size. An entry remembers the organisation and the
/// registry generation it was verified under.
#[derive(Debug)]
struct TokenCache {
    capacity: usize,
    entries: Mutex<HashMap<[u8; 32], CacheEntry>>,
}

#[derive(Debug)]
struct CacheEntry {
    oin: String,
    generation: i64,
    token: Arc<VerifiedToken>,
}

impl TokenCache {
    fn new(capacity: usize) -> TokenCache {
        TokenCache {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn key(token: &str) -> [u8; 32] {
        let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        let mut k = [0u8; 32];
        k.copy_from_slice(d.as_ref());
        k
    }

    fn get(&self, key: &[u8; 32], oin: &str, generation: i64) -> Option<Arc<VerifiedToken>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|e| e.oin == oin && e.generation == generation)
            .map(|e| e.token.clone())
    }

    fn put(&self, key: [u8; 32], oin: &str, generation: i64, token: Arc<VerifiedToken>, now: i64) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.capacity {
            entries.retain(|_, e| e.token.exp > now && e.generation == generation);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(
            key,
            CacheEntry {
                oin: oin.to_owned(),
                generation,
                token,
            },
        );
    }
}

/// Claims of a token made by [`sign`].
#[derive(Debug, Clone)]
pub struct TokenRequest<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub sub: &'a str,
    pub roles: &'a [String],
    pub thumbprint: &'a str,
    pub iat: i64,
    pub ttl_secs: i64,
}

/// Signs a token with an organisation's Ed25519 key (development helper and tests).
///
/// # Errors
/// The key cannot be used for signing.
pub fn sign(key: &TokenKeyPair, req: &TokenRequest<'_>) -> Result<String, jsonwebtoken::errors::Error> {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid.clone());
    header.typ = Some("at+jwt".into());
    let claims = serde_json::json!({
        "iss": req.issuer,
        "aud": req.audience,
        "sub": req.sub,
        "iat": req.iat,
        "nbf": req.iat,
        "exp": req.iat + req.ttl_secs,
        "roles": req.roles,
        "cnf": { "x5t#S256": req.thumbprint },
    });
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_pem(key.private_pem.as_bytes())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::jwks::decoding_key;
    use crate::types::{OrgKind, OrgStatus};

    fn org_with(key: &TokenKeyPair, oin: &str) -> Organisation {
        let mut keys = HashMap::new();
        keys.insert(
            key.kid.clone(),
            decoding_key("EdDSA", &key.public_jwk.to_string()).unwrap(),
        );
        Organisation {
            oin: oin.parse().unwrap(),
            name: "Politie".into(),
            kind: OrgKind::Ketenpartner,
            covenant_roles: vec!["politie".into()],
            municipalities: vec![],
            status: OrgStatus::Active,
            signed_versions: vec![],
            keys,
        }
    }

    fn request<'a>(roles: &'a [String], iat: i64) -> TokenRequest<'a> {
        TokenRequest {
            issuer: "00000099000000000002",
            audience: "doelpoort",
            sub: "agent-1",
            roles,
            thumbprint: "thumb",
            iat,
            ttl_secs: 600,
        }
    }

    #[test]
    fn a_cached_token_is_still_checked_for_expiry_and_binding() {
        let key = TokenKeyPair::generate().unwrap();
        let org = org_with(&key, "00000099000000000002");
        let roles = vec!["professional".to_owned()];
        let token = sign(&key, &request(&roles, 1_000_000)).unwrap();
        let v = TokenVerifier::new("doelpoort", 30, "00000099000000000001", 100);
        assert!(v.verify(&token, &org, "thumb", 1_000_100, 1).is_ok());
        assert_eq!(v.verify(&token, &org, "other", 1_000_100, 1), Err(TokenError::NotBound));
        assert!(matches!(
            v.verify(&token, &org, "thumb", 1_000_700, 1),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn a_new_registry_generation_forces_reverification() {
        let key = TokenKeyPair::generate().unwrap();
        let mut org = org_with(&key, "00000099000000000002");
        let roles = vec!["professional".to_owned()];
        let token = sign(&key, &request(&roles, 1_000_000)).unwrap();
        let v = TokenVerifier::new("doelpoort", 30, "00000099000000000001", 100);
        assert!(v.verify(&token, &org, "thumb", 1_000_100, 1).is_ok());
        org.keys.clear();
        assert!(
            v.verify(&token, &org, "thumb", 1_000_100, 1).is_ok(),
            "same generation: cached"
        );
        assert!(
            v.verify(&token, &org, "thumb", 1_000_100, 2).is_err(),
            "new generation: key is gone"
        );
    }
}
