//! `doelpoort.toml` plus `DOELPOORT_<KEY>` environment overrides. Each section's type belongs to the capability
//! it configures (`[tls]` and `[limits]` to `edge`, `[log]` to `log`, `[content]` to `exchange`); this file
//! composes them.
//!
//! Every key of the file can be overridden: the variable's name is the key's path in upper case with `_` for
//! `.`, e.g. `DOELPOORT_DATABASE_URL`, `DOELPOORT_LISTEN`, `DOELPOORT_TLS_CERT_FILE`,
//! `DOELPOORT_LIMITS_BODY_BYTES`. Relative paths (and a relative `sqlite://` file) are taken relative to the
//! directory of the configuration file. Secrets are never in the file: it names the files that hold them.
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::edge::tls::TlsConfig;
use crate::edge::Limits;
use crate::exchange::ContentConfig;
use crate::log::LogConfig;
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
