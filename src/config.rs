//! `doelpoort.toml` plus `DOELPOORT_<KEY>` environment overrides.
//!
//! Every key of the file can be overridden: the variable's name is the key's path in upper case with `_` for
//! `.`, e.g. `DOELPOORT_DATABASE_URL`, `DOELPOORT_LISTEN`, `DOELPOORT_TLS_CERT_FILE`,
//! `DOELPOORT_LIMITS_BODY_BYTES`. Relative paths (and a relative `sqlite://` file) are taken relative to the
//! directory of the configuration file. Secrets are never in the file: it names the files that hold them.
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::types::Oin;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the configuration file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("environment variable {name} is not valid for its key: {message}")]
    Env { name: String, message: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address of the mutual-TLS API listener.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Address of the plain listener for `/metrics` and `/healthz` (operators only: bind it to loopback).
    #[serde(default = "default_metrics_listen")]
    pub metrics_listen: SocketAddr,
    /// `sqlite://FILE` (embedded default) or `postgres://…`.
    pub database_url: String,
    /// OIN of the host organisation (the ZVH itself); only its users may hold `procesregisseur` and `admin`.
    pub host_oin: Oin,
    /// Expected `aud` of bearer tokens.
    #[serde(default = "default_audience")]
    pub audience: String,
    /// Directory with the covenant files.
    #[serde(default = "default_covenant_dir")]
    pub covenant_dir: PathBuf,
    pub tls: TlsConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub content: ContentConfig,
    #[serde(default)]
    pub limits: Limits,
    /// The file this was read from; SIGHUP reads its master key files again (see [`crate::app::App::reload_keys`]).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// Encryption of case content at rest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContentConfig {
    /// The master key (64 hex digits) that wraps every case's data key; `serve` refuses to start without it.
    pub master_key_file: Option<PathBuf>,
    /// Earlier master keys, still needed to unwrap data keys until `doelpoort content rewrap` has re-wrapped them.
    pub retired_master_key_files: Vec<PathBuf>,
    /// Largest item of content (its JSON text), in bytes.
    pub max_item_bytes: usize,
    /// Most items in one response or share.
    pub max_items: usize,
    /// How often `serve` purges cases whose retention has ended.
    pub purge_interval_secs: u64,
}

impl Default for ContentConfig {
    fn default() -> Self {
        ContentConfig {
            master_key_file: None,
            retired_master_key_files: Vec::new(),
            max_item_bytes: 64 * 1024,
            max_items: 100,
            purge_interval_secs: 3600,
        }
    }
}

/// The disclosure log: its two keys (files; `serve` refuses to start without them) and its pace.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// HMAC key (64+ hex digits) that turns a BSN into the subject pseudonym of records and signs paging cursors.
    pub pseudonym_key_file: Option<PathBuf>,
    /// Ed25519 key (PKCS#8 PEM) that signs checkpoints.
    pub checkpoint_key_file: Option<PathBuf>,
    /// Public keys (base64url) of earlier checkpoint keys whose checkpoints `audit verify` still accepts.
    pub retired_checkpoint_keys: Vec<String>,
    /// Seconds between checkpoints (one is also sealed at shutdown).
    pub checkpoint_interval_secs: u64,
    /// Records committed in one transaction at most.
    pub batch_max: usize,
    /// How long a request waits for its record to commit before it fails closed with 503.
    pub append_timeout_millis: u64,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            pseudonym_key_file: None,
            checkpoint_key_file: None,
            retired_checkpoint_keys: Vec::new(),
            checkpoint_interval_secs: 300,
            batch_max: 1024,
            append_timeout_millis: 10_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Server certificate chain (PEM), leaf first.
    pub cert_file: PathBuf,
    /// Server private key (PEM, PKCS#8).
    pub key_file: PathBuf,
    /// Trust anchors for client certificates (PEM files, one or more certificates each).
    pub client_ca_files: Vec<PathBuf>,
    /// Revocation lists (PEM or DER) for every issuing CA whose key the gateway does not hold.
    #[serde(default)]
    pub crl_files: Vec<PathBuf>,
    /// The gateway's own CA (development or private-CA deployments): certificate and key. With it the gateway
    /// issues client certificates and signs its own revocation list.
    #[serde(default)]
    pub own_ca_cert_file: Option<PathBuf>,
    #[serde(default)]
    pub own_ca_key_file: Option<PathBuf>,
}

/// Limits on what one client may take.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub body_bytes: usize,
    pub handshake_timeout_secs: u64,
    pub header_timeout_secs: u64,
    pub request_timeout_secs: u64,
    pub max_connections: usize,
    pub max_header_bytes: usize,
    /// Allowed clock skew when checking token times.
    pub token_leeway_secs: u64,
    /// Verified tokens kept in the cache at most.
    pub token_cache_entries: usize,
    /// How often the server looks for onboarding or revocation changes made by another process.
    pub registry_poll_millis: u64,
    /// Hit/no-hit lookups per user per minute (429 beyond).
    pub lookups_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 1024 * 1024,
            handshake_timeout_secs: 10,
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            max_connections: 1024,
            max_header_bytes: 16 * 1024,
            token_leeway_secs: 30,
            token_cache_entries: 10_000,
            registry_poll_millis: 1000,
            lookups_per_minute: 30,
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8443))
}

fn default_metrics_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9464))
}

fn default_audience() -> String {
    "doelpoort".to_owned()
}

fn default_covenant_dir() -> PathBuf {
    PathBuf::from("policies")
}

impl Config {
    /// Reads the file, applies the environment overrides, and resolves relative paths against the file's folder.
    ///
    /// # Errors
    /// The file cannot be read, is not valid TOML for this structure, or an override does not fit its key.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let vars: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("DOELPOORT_")).collect();
        let base = path.parent().unwrap_or(Path::new("."));
        let mut config = Self::from_toml(&text, &vars, base).map_err(|e| match e {
            ConfigError::Invalid { message, .. } => ConfigError::Invalid {
                path: path.to_owned(),
                message,
            },
            other => other,
        })?;
        config.source = Some(path.to_owned());
        Ok(config)
    }

    /// Parses TOML text with the given `DOELPOORT_*` overrides; paths are resolved against `base`.
    pub fn from_toml(text: &str, vars: &[(String, String)], base: &Path) -> Result<Config, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: PathBuf::new(),
            message,
        };
        let mut value: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| invalid(e.message().to_owned()))?;
        apply_env(&mut value, vars)?;
        let mut config: Config = toml::Value::Table(value)
            .try_into()
            .map_err(|e: toml::de::Error| invalid(e.message().to_owned()))?;
        config.resolve_paths(base);
        Ok(config)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let join = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        join(&mut self.covenant_dir);
        join(&mut self.tls.cert_file);
        join(&mut self.tls.key_file);
        self.tls.client_ca_files.iter_mut().for_each(join);
        self.tls.crl_files.iter_mut().for_each(join);
        if let Some(p) = self.tls.own_ca_cert_file.as_mut() {
            join(p);
        }
        if let Some(p) = self.tls.own_ca_key_file.as_mut() {
            join(p);
        }
        for p in [
            &mut self.log.pseudonym_key_file,
            &mut self.log.checkpoint_key_file,
            &mut self.content.master_key_file,
        ]
        .into_iter()
        .flatten()
        {
            join(p);
        }
        self.content.retired_master_key_files.iter_mut().for_each(join);
        if let Some(file) = self.database_url.strip_prefix("sqlite://") {
            let (file, query) = file.split_once('?').map_or((file, None), |(f, q)| (f, Some(q)));
            if !file.is_empty() && !file.starts_with(':') && Path::new(file).is_relative() {
                let joined = base.join(file);
                self.database_url = match query {
                    Some(q) => format!("sqlite://{}?{q}", joined.display()),
                    None => format!("sqlite://{}", joined.display()),
                };
            }
        }
    }
}

/// Every key path that exists in a full configuration, with a sample value that tells its type.
fn known_keys() -> Vec<(String, toml::Value)> {
    let sample = toml::Table::from_iter([
        ("listen".into(), "".into()),
        ("metrics_listen".into(), "".into()),
        ("database_url".into(), "".into()),
        ("host_oin".into(), "".into()),
        ("audience".into(), "".into()),
        ("covenant_dir".into(), "".into()),
    ]);
    let mut keys: Vec<(String, toml::Value)> = sample.into_iter().collect();
    for k in ["cert_file", "key_file", "own_ca_cert_file", "own_ca_key_file"] {
        keys.push((format!("tls.{k}"), "".into()));
    }
    for k in ["client_ca_files", "crl_files"] {
        keys.push((format!("tls.{k}"), toml::Value::Array(vec![])));
    }
    for k in ["pseudonym_key_file", "checkpoint_key_file"] {
        keys.push((format!("log.{k}"), "".into()));
    }
    keys.push(("content.master_key_file".into(), "".into()));
    if let Ok(toml::Value::Table(content)) = toml::Value::try_from(ContentConfig::default()) {
        keys.extend(content.into_iter().map(|(k, v)| (format!("content.{k}"), v)));
    }
    if let Ok(toml::Value::Table(log)) = toml::Value::try_from(LogConfig::default()) {
        keys.extend(log.into_iter().map(|(k, v)| (format!("log.{k}"), v)));
    }
    if let Ok(toml::Value::Table(limits)) = toml::Value::try_from(Limits::default()) {
        for (k, v) in limits {
            keys.push((format!("limits.{k}"), v));
        }
    }
    keys
}

fn apply_env(table: &mut toml::Table, vars: &[(String, String)]) -> Result<(), ConfigError> {
    for (path, sample) in known_keys() {
        let name = format!("DOELPOORT_{}", path.replace('.', "_").to_uppercase());
        let Some((_, raw)) = vars.iter().find(|(k, _)| *k == name) else {
            continue;
        };
        let value = match sample {
            toml::Value::Integer(_) => toml::Value::Integer(raw.trim().parse().map_err(|_| ConfigError::Env {
                name: name.clone(),
                message: "expected a whole number".into(),
            })?),
            toml::Value::Array(_) => toml::Value::Array(
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| toml::Value::String(s.to_owned()))
                    .collect(),
            ),
            _ => toml::Value::String(raw.clone()),
        };
        set_path(table, &path, value);
    }
    Ok(())
}

fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) {
    match path.split_once('.') {
        None => {
            table.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let entry = table
                .entry(head.to_owned())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(inner) = entry {
                set_path(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
listen = "127.0.0.1:8443"
metrics_listen = "127.0.0.1:9464"
database_url = "sqlite://doelpoort.db"
host_oin = "00000099000000000001"
[tls]
cert_file = "server/cert.pem"
key_file = "/abs/key.pem"
client_ca_files = ["ca/ca.pem"]
"#;

    #[test]
    fn resolves_relative_paths_against_the_file() {
        let c = Config::from_toml(SAMPLE, &[], Path::new("/etc/dp")).unwrap();
        assert_eq!(c.tls.cert_file, PathBuf::from("/etc/dp/server/cert.pem"));
        assert_eq!(c.tls.key_file, PathBuf::from("/abs/key.pem"));
        assert_eq!(c.database_url, "sqlite:///etc/dp/doelpoort.db");
        assert_eq!(c.audience, "doelpoort");
        assert_eq!(c.limits.body_bytes, 1024 * 1024);
    }

    #[test]
    fn environment_overrides_every_key() {
        let vars = vec![
            ("DOELPOORT_DATABASE_URL".to_owned(), "postgres://u:p@h/db".to_owned()),
            ("DOELPOORT_LISTEN".to_owned(), "0.0.0.0:9000".to_owned()),
            ("DOELPOORT_LIMITS_BODY_BYTES".to_owned(), "2048".to_owned()),
            ("DOELPOORT_TLS_CRL_FILES".to_owned(), "/a.crl, /b.crl".to_owned()),
        ];
        let c = Config::from_toml(SAMPLE, &vars, Path::new("/etc/dp")).unwrap();
        assert_eq!(c.database_url, "postgres://u:p@h/db");
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.limits.body_bytes, 2048);
        assert_eq!(c.tls.crl_files, vec![PathBuf::from("/a.crl"), PathBuf::from("/b.crl")]);
    }

    #[test]
    fn refuses_unknown_keys_and_bad_overrides() {
        let text = format!("{SAMPLE}\nsecret_key = \"x\"\n");
        assert!(Config::from_toml(&text, &[], Path::new(".")).is_err());
        let vars = vec![("DOELPOORT_LIMITS_BODY_BYTES".to_owned(), "lots".to_owned())];
        assert!(matches!(
            Config::from_toml(SAMPLE, &vars, Path::new(".")),
            Err(ConfigError::Env { .. })
        ));
    }
}
