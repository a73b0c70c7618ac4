//! The state every request handler shares: one `Arc`, read-mostly.
use arc_swap::ArcSwap;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::covenant::{Covenant, CovenantError};
use crate::crypto::envelope::Keyring;
use crate::crypto::Pseudonymiser;
use crate::log::chain::Entry;
use crate::log::Log;
use crate::log::LogError;
use crate::lookups::LookupLimiter;
use crate::registry::Registry;
use crate::store::Store;
use crate::token::TokenVerifier;

pub struct App {
    pub config: Config,
    /// The one append path of the disclosure log.
    pub log: Log,
    /// Turns BSNs into the subject pseudonyms of records; signs paging cursors.
    pub pseudonyms: Pseudonymiser,
    /// Wraps the data keys of cases (content at rest).
    pub master_key: Keyring,
    /// The Ed25519 key that signs checkpoints now (base64url).
    pub checkpoint_public_key: String,
    pub store: Store,
    pub registry: Arc<Registry>,
    pub tokens: TokenVerifier,
    /// The covenant in force; replaced whole by [`App::reload_covenant`].
    covenant: ArcSwap<Covenant>,
    pub clock: SharedClock,
    pub metrics: PrometheusHandle,
    /// Hit/no-hit allowance per user.
    pub lookup_limiter: LookupLimiter,
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
    pub async fn reload_covenant(
        &self,
        actor_oin: Option<String>,
        actor_sub: &str,
    ) -> Result<CovenantReload, ReloadError> {
        let next = Covenant::load(&self.config.covenant_dir)?;
        let reload = CovenantReload {
            before: self.covenant().version.clone(),
            after: next.version.clone(),
        };
        let detail =
            serde_json::json!({"before": reload.before, "after": reload.after, "rules": next.rules.lines().len()});
        self.log
            .append(Entry::admin(
                actor_oin,
                actor_sub,
                "covenant.reload",
                &next.version,
                detail.to_string(),
            ))
            .await?;
        self.covenant.store(Arc::new(next));
        tracing::info!(before = %reload.before, after = %reload.after, "covenant reloaded");
        Ok(reload)
    }

    pub fn new(p: Parts) -> App {
        App {
            log: p.log,
            pseudonyms: p.pseudonyms,
            master_key: p.master_key,
            checkpoint_public_key: p.checkpoint_public_key,
            store: p.store,
            registry: p.registry,
            tokens: p.tokens,
            covenant: ArcSwap::from_pointee(p.covenant),
            clock: p.clock,
            metrics: p.metrics,
            lookup_limiter: LookupLimiter::new(p.config.limits.lookups_per_minute),
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
