//! `doelpoort token`: a development token for a demo organisation.
use clap::Args;
use rustls_pki_types::pem::PemObject as _;
use std::path::PathBuf;

use super::{usage, Failure};
use crate::config::Config;
use crate::crypto::pki::{cert_facts, TokenKeyPair};
use crate::edge::token::{self, TokenRequest, MAX_LIFETIME_SECS};
use crate::types::clock::{Clock, SystemClock};

/// Print a token signed with a demo organisation's key, bound to its demo certificate.
#[derive(Debug, Args)]
pub struct TokenArgs {
    #[arg(long)]
    pub dir: PathBuf,
    #[arg(long)]
    pub org: String,
    #[arg(long)]
    pub sub: String,
    #[arg(long, value_delimiter = ',')]
    pub roles: Vec<String>,
    #[arg(long, default_value_t = 3600)]
    pub ttl: i64,
}

/// A token for a demo organisation: its key, OIN and certificate come from DIR/orgs/SLUG.
pub fn demo_token(args: &TokenArgs) -> Result<String, Failure> {
    let (dir, org, sub, roles, ttl) = (&args.dir, args.org.as_str(), args.sub.as_str(), &args.roles, args.ttl);
    if !(1..=MAX_LIFETIME_SECS).contains(&ttl) {
        return Err(usage(format!(
            "--ttl must be between 1 and {MAX_LIFETIME_SECS} seconds"
        )));
    }
    if org.is_empty() || !org.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(usage("--org must be the name of a folder under DIR/orgs"));
    }
    let org_dir = dir.join("orgs").join(org);
    let read = |name: &str| {
        std::fs::read_to_string(org_dir.join(name))
            .map_err(|e| Failure::from(format!("cannot read {}: {e}", org_dir.join(name).display())))
    };
    let key = TokenKeyPair::from_pem(&read("token-key.pem")?)?;
    let oin = read("oin")?.trim().to_owned();
    let cert = rustls_pki_types::CertificateDer::from_pem_slice(read("cert.pem")?.as_bytes())
        .map_err(|_| Failure::from("the organisation's cert.pem holds no certificate"))?;
    let thumbprint = cert_facts(&cert)?.thumbprint;
    let audience = Config::load(&dir.join("doelpoort.toml")).map_or_else(|_| "doelpoort".to_owned(), |c| c.audience);
    let request = TokenRequest {
        issuer: &oin,
        audience: &audience,
        sub,
        roles,
        thumbprint: &thumbprint,
        iat: SystemClock.now().unix_timestamp(),
        ttl_secs: ttl,
    };
    Ok(token::sign(&key, &request)?)
}
