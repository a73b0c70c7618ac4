//! Composition: loads configuration, covenant, database and TLS material (refusing to start when any is
//! missing), then runs the mutual-TLS API listener, the operators' plain listener, and the reloader that picks
//! up onboarding and revocation changes and re-signs the gateway's revocation list.
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::{App, AppState, Parts};
use crate::config::Config;
use crate::covenant::{Covenant, CovenantError};
use crate::crypto::envelope::Keyring;
use crate::crypto::{read_secret, CheckpointSigner, KeyError, Pseudonymiser};
use crate::edge::tls::{TlsError, TlsMaterial, TlsState};
use crate::edge::token::TokenVerifier;
use crate::log::checkpoint::Notary;
use crate::log::Log;
use crate::orgs::registry::Registry;
use crate::store::{Store, StoreError};
use crate::types::clock::SharedClock;

/// How often the TLS configuration is rebuilt even without changes: re-reads CRL files and re-signs the
/// gateway's own CRL long before it expires.
const TLS_REFRESH: Duration = Duration::from_secs(600);
/// How long open requests may finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Covenant(#[from] CovenantError),
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The disclosure log's keys and the content master key, read at start.
struct LogKeys {
    pseudonyms: Pseudonymiser,
    signer: Arc<CheckpointSigner>,
    master: Keyring,
}

fn load_keys(config: &Config) -> Result<LogKeys, StartError> {
    let master = config.content.keyring()?;
    let config = &config.log;
    let pseudonym = config
        .pseudonym_key_file
        .as_deref()
        .ok_or(KeyError::Missing("log.pseudonym_key_file"))?;
    let checkpoint = config
        .checkpoint_key_file
        .as_deref()
        .ok_or(KeyError::Missing("log.checkpoint_key_file"))?;
    Ok(LogKeys {
        pseudonyms: Pseudonymiser::new(&read_secret(pseudonym)?),
        signer: Arc::new(CheckpointSigner::from_file(checkpoint)?),
        master,
    })
}

/// A started gateway: its bound addresses and the means to stop it.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    pub app: AppState,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    checkpoints: JoinHandle<()>,
    drained: watch::Sender<bool>,
}

impl RunningServer {
    /// Stops accepting, lets open requests finish, waits for the listeners to end, then seals a last checkpoint.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        let _ = self.drained.send(true);
        let _ = self.checkpoints.await;
        self.app.store.close().await;
    }
}

/// Connects to the database and applies migrations.
///
/// # Errors
/// The database cannot be opened or migrated.
pub async fn open_store(config: &Config) -> Result<Store, StoreError> {
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    Ok(store)
}

/// Starts the gateway.
///
/// # Errors
/// Covenant, database or TLS material missing or invalid, or a listener cannot bind.
pub async fn start(config: Config, clock: SharedClock) -> Result<RunningServer, StartError> {
    let covenant = Covenant::load(&config.covenant_dir)?;
    let material = TlsMaterial::load(&config.tls)?;
    let keys = load_keys(&config)?;
    let store = open_store(&config).await?;
    warn_of_missing_master_keys(&store, &keys.master).await?;
    let registry = Arc::new(Registry::default());
    registry.reload(&store).await?;
    let tls = Arc::new(TlsState::new(
        tls_config(&material, &store, &registry, clock.now()).await?,
    ));
    let (listener, addr) = bind(config.listen).await?;
    let (operator_listener, metrics_addr) = bind(config.metrics_listen).await?;
    let tokens = TokenVerifier::new(
        &config.audience,
        config.limits.token_leeway_secs,
        config.host_oin.as_str(),
        config.limits.token_cache_entries,
    );
    let log = Log::start(
        store.clone(),
        clock.clone(),
        config.log.batch_max,
        Duration::from_millis(config.log.append_timeout_millis.max(1)),
    );
    let notary = Notary {
        signer: keys.signer.clone(),
        origin: config.log.origin(&config.host_oin),
    };
    let app: AppState = Arc::new(App::new(Parts {
        config,
        log,
        pseudonyms: keys.pseudonyms,
        master_key: keys.master,
        checkpoint_public_key: keys.signer.public_key(),
        notary: notary.clone(),
        store,
        registry,
        tokens,
        covenant,
        clock,
        metrics: metrics_handle(),
    }));
    check_log(&app).await?;
    let (stop, stopped) = watch::channel(false);
    let tasks = spawn_tasks(&app, (listener, operator_listener), tls, &stopped);
    // The last checkpoint is sealed after the listeners have drained, so it covers every record they wrote.
    let (drained, drained_rx) = watch::channel(false);
    let checkpoints = tokio::spawn(crate::log::checkpoint::run(
        crate::log::Records::new(app.store.clone()),
        notary,
        app.clock.clone(),
        Duration::from_secs(app.config.log.checkpoint_interval_secs.max(1)),
        drained_rx,
    ));
    tracing::info!(%addr, %metrics_addr, "doelpoort is serving");
    Ok(RunningServer {
        addr,
        metrics_addr,
        app,
        stop,
        tasks,
        checkpoints,
        drained,
    })
}

/// Builds the Merkle tree of a log from before it, then runs the start-up check; a log that fails it stays fail
/// closed (every release 503 `audit_unavailable`, `/healthz` says why) until an operator acts.
async fn check_log(app: &AppState) -> Result<(), StartError> {
    let records = app.log.records();
    let now = crate::types::clock::rfc3339(app.clock.now());
    let built = records.build_tree(&now, 50_000).await;
    let verdict = match built {
        Ok(_) => crate::log::verify::start_check(records, &app.trust()).await,
        Err(e) => Err(format!("the tree could not be built: {e}")),
    };
    if let Err(reason) = verdict {
        app.log.halt(reason);
    }
    Ok(())
}

/// The listeners and the background tasks, each ending when `stopped` turns true.
fn spawn_tasks(
    app: &AppState,
    (listener, operator_listener): (TcpListener, TcpListener),
    tls: Arc<TlsState>,
    stopped: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let operators = {
        let router = crate::api::operator_router(app.clone());
        let stopped = wait_for(stopped.clone());
        async move {
            if let Err(e) = axum::serve(operator_listener, router)
                .with_graceful_shutdown(stopped)
                .await
            {
                tracing::error!(error = %e, "operators' listener failed");
            }
        }
    };
    vec![
        tokio::spawn(crate::edge::conn::serve(
            listener,
            tls.clone(),
            crate::api::router(app.clone(), crate::console::routes()),
            (app.config.limits.clone(), app.clock.clone()),
            wait_for(stopped.clone()),
            DRAIN,
        )),
        tokio::spawn(operators),
        tokio::spawn(reloader(app.clone(), tls, stopped.clone())),
        tokio::spawn(reload_on_hangup(app.clone(), stopped.clone())),
        tokio::spawn(purge_periodically(app.clone(), stopped.clone())),
        tokio::spawn(forget_stale_reads(app.clone(), stopped.clone())),
    ]
}

/// Waits for `signal`, then shuts down gracefully.
pub async fn run_until(server: RunningServer, signal: impl std::future::Future<Output = ()>) {
    signal.await;
    tracing::info!("shutting down");
    server.shutdown().await;
}

/// A data key wrapped under a master key the configuration no longer names cannot be opened: its case's content
/// stays sealed (reads fail) until the key file is named again, so the operator hears of it at start.
async fn warn_of_missing_master_keys(store: &Store, keys: &Keyring) -> Result<(), StoreError> {
    for id in store.master_keys_in_use().await? {
        if !keys.holds(&id) {
            tracing::error!(master_key = %id, "data keys are wrapped under a master key no configured file holds");
        }
    }
    Ok(())
}

/// A listener on `addr`, and the address it took (the port, when `addr` asks for any).
async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    Ok((listener, bound))
}

async fn wait_for(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

async fn tls_config(
    material: &TlsMaterial,
    store: &Store,
    registry: &Arc<Registry>,
    now: OffsetDateTime,
) -> Result<Arc<rustls::ServerConfig>, StartError> {
    let format = time::format_description::well_known::Rfc3339;
    let revoked: Vec<(String, OffsetDateTime)> = store
        .revocations()
        .await?
        .into_iter()
        .map(|(serial, at)| (serial, OffsetDateTime::parse(&at, &format).unwrap_or(now)))
        .collect();
    Ok(material.server_config(&revoked, registry.clone(), now)?)
}

/// Polls the registry generation (changes by other processes), wakes on local changes, and rebuilds the TLS
/// configuration — re-reading certificate and CRL files and re-signing the gateway's own CRL — whenever the
/// registry generation differs from the one it was built for, or the refresh interval passed. A failed rebuild
/// keeps the old configuration (whose CRLs expire, failing closed, if the problem persists).
async fn reloader(app: AppState, tls: Arc<TlsState>, mut stopped: watch::Receiver<bool>) {
    let poll = Duration::from_millis(app.config.limits.registry_poll_millis.max(50));
    let mut built_for = app.registry.current().generation;
    let mut built_at = Instant::now();
    loop {
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            () = app.changed.notified() => {}
            _ = stopped.changed() => return,
        }
        if let Err(e) = app.registry.refresh(&app.store).await {
            tracing::warn!(error = %e, "registry refresh failed; keeping the current view");
        }
        let generation = app.registry.current().generation;
        if generation == built_for && built_at.elapsed() < TLS_REFRESH {
            continue;
        }
        let rebuilt = match TlsMaterial::load(&app.config.tls) {
            Ok(material) => tls_config(&material, &app.store, &app.registry, app.clock.now()).await,
            Err(e) => Err(e.into()),
        };
        match rebuilt {
            Ok(config) => {
                tls.swap(config);
                built_for = generation;
                built_at = Instant::now();
            }
            Err(e) => tracing::error!(error = %e, "TLS configuration rebuild failed; keeping the current one"),
        }
    }
}

/// SIGHUP puts the covenant files in force again (a new version, or a corrected one) and reads the content
/// master key files again (a rotation); each reload that fails leaves what runs in force.
#[cfg(unix)]
async fn reload_on_hangup(app: AppState, mut stopped: watch::Receiver<bool>) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGHUP; reload the covenant and keys through the admin API");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = hangup.recv() => {}
            _ = stopped.changed() => return,
        }
        let operator = crate::log::actor::AnyActor::operator("signal:SIGHUP");
        if let Err(e) = app.reload_covenant(&operator).await {
            tracing::error!(error = %e, "covenant reload refused; the running version stays in force");
        }
        if let Err(e) = app.reload_keys(&operator).await {
            tracing::error!(error = %e, "master key reload refused; the running keys stay in force");
        }
    }
}

/// Drops the cached reads whose facts changed since they were read, every `limits.registry_poll_millis`: they can
/// never be used again, and what they hold (a purged case's sealed content, say) should not outlive the change.
async fn forget_stale_reads(app: AppState, mut stopped: watch::Receiver<bool>) {
    let poll = Duration::from_millis(app.config.limits.registry_poll_millis.max(50));
    loop {
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            _ = stopped.changed() => return,
        }
        match app.store.facts_generation().await {
            Ok(now) => app.request_cache.retain(|read| read.generation >= now),
            Err(e) => tracing::warn!(error = %e, "cannot read the facts generation; cached reads kept until next poll"),
        }
    }
}

/// Purges the cases whose retention has ended, at start and then every `content.purge_interval_secs`.
async fn purge_periodically(app: AppState, mut stopped: watch::Receiver<bool>) {
    let every = Duration::from_secs(app.config.content.purge_interval_secs.max(1));
    let purger = crate::log::actor::AnyActor::operator("doelpoort:purge");
    loop {
        let covenant = app.covenant();
        if let Err(e) = crate::cases::retention::purge_due(&app.store, &covenant, app.clock.now(), &purger).await {
            tracing::error!(error = %e, "purge failed; retrying at the next interval");
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stopped.changed() => return,
        }
    }
}

#[cfg(not(unix))]
async fn reload_on_hangup(_app: AppState, _stopped: watch::Receiver<bool>) {}

/// SIGTERM or SIGINT (Ctrl-C). The handlers are installed when this is called, not when it is first awaited,
/// so a caller can install them before announcing that it is ready.
///
/// # Errors
/// The signal handlers cannot be installed.
#[cfg(unix)]
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// Ctrl-C.
///
/// # Errors
/// Never on this platform.
#[cfg(not(unix))]
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// How often recorded histogram samples are folded into their buckets. The recorder keeps every raw sample until
/// then (or until a scrape), so without this the memory of an unscraped gateway grows with every request.
const METRICS_UPKEEP: Duration = Duration::from_secs(5);

const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Installs the process-wide Prometheus recorder on first use and returns its handle (one per process, shared by
/// every server in it).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was installed already");
            }
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(METRICS_UPKEEP);
                    upkeep.run_upkeep();
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start the metrics upkeep; memory grows until /metrics is scraped");
            }
            handle
        })
        .clone()
}
