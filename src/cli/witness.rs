//! `doelpoort witness`: a partner's witness of the host's disclosure log. It fetches the gateway's newest
//! checkpoint over mutual TLS with the partner's own certificate and token key, checks the gateway's signature and
//! that the checkpoint extends the one it accepted before (a consistency proof, RFC 6962), cosigns it with the
//! witness's own key (`c2sp.org/tlog-cosignature`) and keeps it in its state file. A checkpoint that does not extend
//! the state is refused, loudly, and the state is left as it was: that is the evidence.
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use clap::Args;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{read_file, say, usage, write_private, Failure};
use crate::crypto::pki::{cert_facts, SubjectOin, TokenKeyPair};
use crate::crypto::CheckpointSigner;
use crate::edge::token::{self, TokenRequest};
use crate::log::merkle::{verify_consistency, Hash};
use crate::log::note::{self, Checkpoint};
use crate::types::clock::{Clock, SystemClock};

/// Witness the gateway's log: cosign its newest checkpoint if it extends the one this witness accepted before.
#[derive(Debug, Args)]
pub struct WitnessArgs {
    /// The gateway, `https://host:port`.
    #[arg(long)]
    pub url: String,
    /// The CA certificate(s) the gateway's server certificate chains to (PEM).
    #[arg(long)]
    pub ca: PathBuf,
    /// Your organisation's client certificate (PEM).
    #[arg(long)]
    pub cert: PathBuf,
    /// Its private key (PEM).
    #[arg(long)]
    pub key: PathBuf,
    /// Your organisation's Ed25519 token key (PKCS#8 PEM), registered with the gateway.
    #[arg(long)]
    pub token_key: PathBuf,
    /// The token's audience (the gateway's `audience`).
    #[arg(long, default_value = "doelpoort")]
    pub audience: String,
    /// The file with the checkpoint this witness accepted last (JSON; created at the first run).
    #[arg(long)]
    pub state: PathBuf,
    /// The witness's own Ed25519 key (PKCS#8 PEM); made at the first run when the file does not exist.
    #[arg(long)]
    pub witness_key: PathBuf,
    /// The witness's name in its cosignatures (default `OIN/witness`).
    #[arg(long)]
    pub name: Option<String>,
    /// The gateway's checkpoint key (base64url) as the host gave it to you; without it and without a state,
    /// the key the gateway serves is trusted on first use.
    #[arg(long)]
    pub log_key: Option<String>,
}

/// The gateway's checkpoint key and origin as `GET /v1/audit/checkpoints` serves them.
#[derive(Deserialize)]
struct Served {
    origin: String,
    public_key: String,
}

/// A consistency proof as the gateway serves it.
#[derive(Deserialize)]
struct Proof {
    path: Vec<String>,
}

/// What the witness accepted last.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    origin: String,
    /// The gateway's checkpoint key, base64url.
    log_key: String,
    size: u64,
    /// Base64, as in the note.
    root: String,
    note: String,
}

impl State {
    fn load(path: &Path) -> Result<Option<State>, Failure> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| Failure::from(format!("the state file {} is not a witness state: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Failure::from(format!("cannot read {}: {e}", path.display()))),
        }
    }

    /// Written beside and renamed over the old state, so a crash leaves one or the other.
    fn save(&self, path: &Path) -> Result<(), Failure> {
        let text = serde_json::to_string_pretty(self).map_err(|e| Failure::from(e.to_string()))?;
        let temporary = path.with_extension("tmp");
        std::fs::write(&temporary, text + "\n")
            .and_then(|()| std::fs::rename(&temporary, path))
            .map_err(|e| Failure::from(format!("cannot write {}: {e}", path.display())))
    }

    fn root(&self) -> Option<Hash> {
        STANDARD.decode(&self.root).ok()?.try_into().ok()
    }
}

/// Runs one round; `Err` with code 1 for a refusal or a failure.
pub async fn run(args: &WitnessArgs) -> Result<(), Failure> {
    let client = Client::new(args)?;
    let witness = witness_key(&args.witness_key)?;
    let name = args.name.clone().unwrap_or_else(|| format!("{}/witness", client.oin));
    let state = State::load(&args.state)?;
    let (origin, log_key) = pinned(&client, state.as_ref(), args.log_key.as_deref()).await?;
    let key = URL_SAFE_NO_PAD
        .decode(&log_key)
        .map_err(|_| Failure::from("the gateway's checkpoint key is not base64url"))?;
    let text = client.get_text("/v1/audit/checkpoint").await?;
    let checkpoint = note::open(&text, &origin, &key)
        .filter(|c| c.origin == origin)
        .ok_or_else(|| {
            Failure::from(refused(
                "the checkpoint is not signed by the log's key under its origin",
            ))
        })?;
    if let Some(held) = &state {
        extends(&client, held, &checkpoint).await?;
    }
    let (body, _) = note::split(&text).ok_or_else(|| Failure::from("the checkpoint is not a signed note"))?;
    State {
        origin,
        log_key,
        size: checkpoint.size,
        root: STANDARD.encode(checkpoint.root),
        note: text.clone(),
    }
    .save(&args.state)?;
    cosign(&client, &witness, &name, &body, checkpoint.size).await?;
    let since = state.map_or_else(
        || "the first it saw".to_owned(),
        |s| format!("the one of {} records", s.size),
    );
    say!(
        "cosigned the checkpoint of {} records (root {}) as {name}: it extends {since}",
        checkpoint.size,
        hex::encode(checkpoint.root)
    );
    Ok(())
}

/// The log's origin and checkpoint key: those of the state, else `--log-key` checked against the served one, else
/// the served one, trusted on first use.
async fn pinned(client: &Client, state: Option<&State>, given: Option<&str>) -> Result<(String, String), Failure> {
    match (state, given) {
        (Some(s), Some(given)) if s.log_key != given => Err(Failure::from(
            "--log-key differs from the key in the state file; move the state file away to start over",
        )),
        (Some(s), _) => Ok((s.origin.clone(), s.log_key.clone())),
        (None, given) => {
            let served: Served = client.get_json("/v1/audit/checkpoints").await?;
            match given {
                Some(g) if g != served.public_key => Err(Failure::from(refused(
                    "the gateway serves another checkpoint key than --log-key; it is not the log you were told of",
                ))),
                Some(_) => Ok((served.origin, served.public_key)),
                None => {
                    say!(
                        "first run: trusting the gateway's checkpoint key {} (origin {}) on first use",
                        served.public_key,
                        served.origin
                    );
                    Ok((served.origin, served.public_key))
                }
            }
        }
    }
}

/// Posts the witness's cosignature over `body` (the checkpoint of `size` records).
async fn cosign(client: &Client, witness: &CheckpointSigner, name: &str, body: &str, size: u64) -> Result<(), Failure> {
    let time = SystemClock.now().unix_timestamp().max(0) as u64;
    let line = note::cosignature_line(name, &witness.public_key_bytes(), body, time, |m| witness.sign_bytes(m));
    let cosignature = serde_json::json!({
        "size": size,
        "line": line.text(),
        "public_key": STANDARD.encode(witness.public_key_bytes()),
    });
    let (status, answer) = client.post_json("/v1/audit/cosignatures", &cosignature).await?;
    if (200..300).contains(&status) {
        return Ok(());
    }
    Err(Failure::from(format!(
        "the checkpoint of {size} records is accepted and kept, but the gateway refused the cosignature ({status}): {answer}"
    )))
}

fn refused(why: &str) -> String {
    format!("REFUSED to cosign: {why}. The state file is left as it was; keep it and tell the host's privacy officer")
}

/// Whether `new` extends what the witness held: the same tree, or a larger one with a consistency proof.
async fn extends(client: &Client, held: &State, new: &Checkpoint) -> Result<(), Failure> {
    let old = held
        .root()
        .ok_or_else(|| Failure::from("the state file holds a malformed root"))?;
    if new.size < held.size {
        return Err(Failure::from(refused(&format!(
            "the gateway's checkpoint covers {} records, fewer than the {} this witness accepted: the log was cut short",
            new.size, held.size
        ))));
    }
    if new.size == held.size {
        return if new.root == old {
            Ok(())
        } else {
            Err(Failure::from(refused(&format!(
                "the gateway signed two different trees of {} records: the log was rewritten",
                new.size
            ))))
        };
    }
    let proof: Proof = client
        .get_json(&format!(
            "/v1/audit/proof/consistency?from={}&to={}",
            held.size, new.size
        ))
        .await?;
    let path: Option<Vec<Hash>> = proof
        .path
        .iter()
        .map(|h| hex::decode(h).ok()?.try_into().ok())
        .collect();
    if path.is_some_and(|p| verify_consistency(held.size, new.size, &old, &new.root, &p)) {
        Ok(())
    } else {
        Err(Failure::from(refused(&format!(
            "the checkpoint of {} records does not extend the one of {} records this witness accepted: the log was rewritten",
            new.size, held.size
        ))))
    }
}

/// The witness's key, made (owner-readable only) when the file does not exist.
fn witness_key(path: &Path) -> Result<CheckpointSigner, Failure> {
    if !path.exists() {
        write_private(path, TokenKeyPair::generate()?.private_pem)?;
        say!("made a witness key in {}", path.display());
    }
    Ok(CheckpointSigner::from_file(path)?)
}

/// One HTTPS connection per call, with the organisation's certificate and a fresh token.
struct Client {
    tls: tokio_rustls::TlsConnector,
    host: String,
    port: u16,
    oin: String,
    token: String,
}

impl Client {
    fn new(args: &WitnessArgs) -> Result<Client, Failure> {
        let uri: http::Uri = args.url.parse().map_err(|_| usage("--url must be https://host:port"))?;
        let (Some("https"), Some(host)) = (uri.scheme_str(), uri.host()) else {
            return Err(usage("--url must be https://host:port"));
        };
        let pem = |path: &Path| read_file(path).map(String::into_bytes);
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&pem(&args.ca)?) {
            roots
                .add(cert.map_err(|_| Failure::from("--ca holds no certificate"))?)
                .map_err(|e| Failure::from(format!("--ca: {e}")))?;
        }
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem(&args.cert)?)
            .collect::<Result<_, _>>()
            .map_err(|_| Failure::from("--cert holds no certificate"))?;
        let first = chain
            .first()
            .ok_or_else(|| Failure::from("--cert holds no certificate"))?;
        let facts = cert_facts(first)?;
        let SubjectOin::One(oin) = facts.subject_oin else {
            return Err(Failure::from("--cert names no single OIN in its subject"));
        };
        let key =
            PrivateKeyDer::from_pem_slice(&pem(&args.key)?).map_err(|_| Failure::from("--key holds no private key"))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Failure::from(e.to_string()))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| Failure::from(format!("--cert and --key: {e}")))?;
        let token_key = TokenKeyPair::from_pem(&read_file(&args.token_key)?)?;
        let roles = vec!["privacy_officer".to_owned()];
        let oin = oin.to_string();
        let token = token::sign(
            &token_key,
            &TokenRequest {
                issuer: &oin,
                audience: &args.audience,
                sub: "witness",
                roles: &roles,
                thumbprint: &facts.thumbprint,
                iat: SystemClock.now().unix_timestamp(),
                ttl_secs: 300,
            },
        )?;
        Ok(Client {
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            host: host.to_owned(),
            port: uri.port_u16().unwrap_or(443),
            oin,
            token,
        })
    }

    async fn send(&self, method: http::Method, path: &str, body: Option<String>) -> Result<(u16, String), Failure> {
        let unreachable =
            |e: &dyn std::fmt::Display| Failure::from(format!("cannot reach {}:{}: {e}", self.host, self.port));
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| unreachable(&e))?;
        let name = ServerName::try_from(self.host.clone()).map_err(|e| unreachable(&e))?;
        let tls = self.tls.connect(name, tcp).await.map_err(|e| unreachable(&e))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| unreachable(&e))?;
        tokio::spawn(connection);
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, &self.host)
            .header(http::header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(bytes_of(body)))
            .map_err(|e| Failure::from(e.to_string()))?;
        let response = sender.send_request(request).await.map_err(|e| unreachable(&e))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| unreachable(&e))?
            .to_bytes();
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }

    async fn get_text(&self, path: &str) -> Result<String, Failure> {
        match self.send(http::Method::GET, path, None).await? {
            (200, text) => Ok(text),
            (status, text) => Err(Failure::from(format!("GET {path} answered {status}: {text}"))),
        }
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, Failure> {
        let text = self.get_text(path).await?;
        serde_json::from_str(&text).map_err(|e| Failure::from(format!("GET {path}: not JSON: {e}")))
    }

    async fn post_json(&self, path: &str, body: &serde_json::Value) -> Result<(u16, String), Failure> {
        self.send(http::Method::POST, path, Some(body.to_string())).await
    }
}

fn bytes_of(body: Option<String>) -> axum::body::Bytes {
    axum::body::Bytes::from(body.unwrap_or_default())
}
