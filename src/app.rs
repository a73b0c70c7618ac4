//! The state every request handler shares: one `Arc`, read-mostly; the covenant and the master keys are swapped
//! whole on reload, after the reload is recorded.
use crate::exchange::read_cache::RequestCache;
use arc_swap::ArcSwap;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use tokio::sync::Notify;

use crate::cases::lookups::LookupLimiter;
use crate::config::{Config, ConfigError};
use crate::covenant::{Covenant, CovenantError};
use crate::crypto::envelope::Keyring;
use crate::crypto::{KeyError, Pseudonymiser};
use crate::edge::token::TokenVerifier;
use crate::log::actor::AnyActor;
use crate::log::checkpoint::Notary;
use crate::log::verify::Trust;
use crate::log::Log;
use crate::log::LogError;
use crate::orgs::registry::Registry;
use crate::store::{Store, StoreError};
use crate::types::clock::SharedClock;

pub struct App {
    pub config: Config,
    /// The one append path of the disclosure log.
    pub log: Log,
    /// Turns BSNs into the subject pseudonyms of records; signs paging cursors.
    pub pseudonyms: Pseudonymiser,
    /// Wraps the data keys of cases (content at rest); replaced whole by [`App::reload_keys`].
    keyring: ArcSwap<Keyring>,
    /// The Ed25519 key that signs checkpoints now (base64url).
    pub checkpoint_public_key: String,
    /// Signs checkpoints: the key and the log's origin.
    pub notary: Notary,
    pub store: Store,
    pub registry: Arc<Registry>,
    pub tokens: TokenVerifier,
    /// The covenant in force; replaced whole by [`App::reload_covenant`].
    covenant: ArcSwap<Covenant>,
    pub clock: SharedClock,
    pub metrics: PrometheusHandle,
    /// Hit/no-hit allowance per user.
    pub lookup_limiter: LookupLimiter,
    /// Requests read recently, checked against the facts generation at every release.
    pub request_cache: RequestCache,
    /// The console's last (or running) verification of the log.
    pub verification: crate::log::verify::Tracker,
    /// Woken after an admin change so the registry and TLS configuration reload at once, not at the next poll.
    pub changed: Notify,
}

pub type AppState = Arc<App>;

/// The parts an [`App`] is made of (its covenant goes behind a swap).
pub struct Parts {
    pub config: Config,
    pub log: Log,
    pub pseudonyms: Pseudonymiser,
    pub master_key: Keyring,
    pub checkpoint_public_key: String,
    pub notary: Notary,
    pub store: Store,
    pub registry: Arc<Registry>,
    pub tokens: TokenVerifier,
    pub covenant: Covenant,
    pub clock: SharedClock,
    pub metrics: PrometheusHandle,
}

/// What a covenant reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CovenantReload {
    pub before: String,
    pub after: String,
}

/// What a master-key reload put in force: key ids (fingerprints, not secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysReload {
    pub current: String,
    pub retired: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeysReloadError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Dropping a key that still wraps data keys would make those cases' content unreadable.
    #[error(
        "master key {0} still wraps data keys: keep its file in content.retired_master_key_files until \
         `doelpoort content rewrap` has run"
    )]
    StillInUse(String),
    #[error("cannot check which master keys are in use: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Log(#[from] LogError),
}

#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The files do not load or check; the running version stays in force.
    #[error(transparent)]
    Covenant(#[from] CovenantError),
    /// The reload could not be recorded; the running version stays in force.
    #[error(transparent)]
    Log(#[from] LogError),
}

impl App {
    /// The covenant in force now. Callers hold the `Arc` for one decision, so a reload never changes the rules
    /// under a request half-way.
    pub fn covenant(&self) -> Arc<Covenant> {
        self.covenant.load_full()
    }

    /// Reads the covenant files again and puts the new version in force — after recording the change in the
    /// disclosure log. Files that do not load or check leave the running version in force.
    ///
    /// # Errors
    /// The files are inconsistent, or the log cannot be written.
    pub async fn reload_covenant(&self, actor: &AnyActor) -> Result<CovenantReload, ReloadError> {
        let next = Covenant::load(&self.config.covenant_dir)?;
        let reload = CovenantReload {
            before: self.covenant().version.clone(),
            after: next.version.clone(),
        };
        let detail =
            serde_json::json!({"before": reload.before, "after": reload.after, "rules": next.rules.lines().len()});
        self.log
            .append(actor.admin_entry("covenant.reload", &next.version, &detail))
            .await?;
        self.covenant.store(Arc::new(next));
        tracing::info!(before = %reload.before, after = %reload.after, "covenant reloaded");
        Ok(reload)
    }

    /// The master keys in force now; a request holds the `Arc` for its whole read or write.
    pub fn keyring(&self) -> Arc<Keyring> {
        self.keyring.load_full()
    }

    /// Reads the master key files named in the configuration file again and puts them in force — after recording
    /// the change — so a master-key rotation needs no restart: name the new key in `content.master_key_file` and
    /// the old one in `content.retired_master_key_files`, reload, run `doelpoort content rewrap`, then drop the old
    /// one and reload again. Only these two settings are taken from the file; everything else needs a restart. A
    /// reload that would drop a key still wrapping data keys is refused, and the running keys stay in force.
    ///
    /// # Errors
    /// The configuration or a key file does not read, a dropped key is still in use, or the log cannot be written.
    pub async fn reload_keys(&self, actor: &AnyActor) -> Result<KeysReload, KeysReloadError> {
        let content = match &self.config.source {
            Some(path) => Config::load(path)?.content,
            None => self.config.content.clone(),
        };
        let next = content.keyring()?;
        if let Some(id) = self
            .store
            .master_keys_in_use()
            .await?
            .into_iter()
            .find(|id| !next.holds(id))
        {
            return Err(KeysReloadError::StillInUse(id));
        }
        let reload = KeysReload {
            current: next.current().id().to_owned(),
            retired: next.retired_ids().into_iter().map(str::to_owned).collect(),
        };
        let detail = serde_json::json!({"current": reload.current, "retired": reload.retired});
        self.log
            .append(actor.admin_entry("content.keys.reload", &self.covenant().version, &detail))
            .await?;
        self.keyring.store(Arc::new(next));
        tracing::info!(current = %reload.current, retired = reload.retired.len(), "master keys reloaded");
        Ok(reload)
    }

    /// What a verification of this gateway's log trusts: its checkpoint keys, origin and interval, at its now.
    pub fn trust(&self) -> Trust {
        Trust::configured(
            &self.config.log,
            &self.config.host_oin,
            Some(self.checkpoint_public_key.clone()),
            crate::types::clock::rfc3339(self.clock.now()),
        )
    }

    pub fn new(p: Parts) -> App {
        App {
            log: p.log,
            pseudonyms: p.pseudonyms,
            keyring: ArcSwap::from_pointee(p.master_key),
            checkpoint_public_key: p.checkpoint_public_key,
            notary: p.notary,
            store: p.store,
            registry: p.registry,
            tokens: p.tokens,
            covenant: ArcSwap::from_pointee(p.covenant),
            clock: p.clock,
            metrics: p.metrics,
            lookup_limiter: LookupLimiter::new(
                p.config.limits.lookups_per_minute,
                p.config.limits.lookups_per_minute_per_organisation,
            ),
            request_cache: RequestCache::default(),
            verification: crate::log::verify::Tracker::default(),
            changed: Notify::new(),
            config: p.config,
        }
    }

    /// Reloads the registry after a change made through this process and wakes the TLS reloader.
    pub async fn registry_changed(&self) {
        if let Err(e) = self.registry.reload(&self.store).await {
            tracing::error!(error = %e, "registry reload after an admin change failed; the poller will retry");
        }
        self.changed.notify_one();
    }
}
