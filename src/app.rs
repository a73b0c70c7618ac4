//! The state every request handler shares: one `Arc`, read-mostly.
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::covenant::Covenant;
use crate::crypto::Pseudonymiser;
use crate::log::Log;
use crate::registry::Registry;
use crate::store::Store;
use crate::token::TokenVerifier;

pub struct App {
    pub config: Config,
    /// The one append path of the disclosure log.
    pub log: Log,
    /// Turns BSNs into the subject pseudonyms of records; signs paging cursors.
    pub pseudonyms: Pseudonymiser,
    /// The Ed25519 key that signs checkpoints now (base64url).
    pub checkpoint_public_key: String,
    pub store: Store,
    pub registry: Arc<Registry>,
    pub tokens: TokenVerifier,
    pub covenant: Covenant,
    pub clock: SharedClock,
    pub metrics: PrometheusHandle,
    /// Woken after an admin change so the registry and TLS configuration reload at once, not at the next poll.
    pub changed: Notify,
}

pub type AppState = Arc<App>;

impl App {
    /// Reloads the registry after a change made through this process and wakes the TLS reloader.
    pub async fn registry_changed(&self) {
        if let Err(e) = self.registry.reload(&self.store).await {
            tracing::error!(error = %e, "registry reload after an admin change failed; the poller will retry");
        }
        self.changed.notify_one();
    }
}
