//! The TLS accept loop. Each accepted TCP connection gets its own task in which the handshake runs under a
//! timeout, so one stalled client never blocks another. A semaphore caps open connections; when every slot is
//! taken the oldest connection still in its handshake is ended to make room, else the oldest established one with
//! no request in progress (idle, or trickling a request head), so neither strangers' handshakes nor slow partners
//! can keep others out. Each organisation holds at most `limits.max_connections_per_organisation` established
//! connections. HTTP/1.1 is served with a header-read timeout that also ends idle keep-alive connections.
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt as _;

use crate::crypto::pki::cert_facts;
use crate::edge::timer::ClockTimer;
use crate::edge::tls::{refusal_reason, TlsState};
use crate::edge::Limits;
use crate::types::clock::SharedClock;
use crate::types::Oin;

/// The verified client certificate of a connection, attached to each of its requests.
#[derive(Debug, Clone)]
pub struct PeerCert {
    /// The OIN from the subject `serialNumber`.
    pub oin: crate::types::Oin,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// `x5t#S256` of the certificate.
    pub thumbprint: String,
}

/// Serves `router` over mutual TLS on `listener` until `shutdown` completes, then lets open requests finish
/// (up to `drain`).
pub async fn serve(
    listener: TcpListener,
    tls: Arc<TlsState>,
    router: Router,
    (limits, clock): (Limits, SharedClock),
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let connections = Arc::new(Connections::new());
    let limits = Arc::new(limits);
    tokio::pin!(shutdown);
    loop {
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = slot(&slots, &connections).await else {
            metrics::counter!("doelpoort_tls_handshake_refused_total", "reason" => "connection_limit").increment(1);
            drop(tcp);
            continue;
        };
        let tracked = connections.register();
        let watcher = graceful.watcher();
        let config = tls.current();
        let router = router.clone();
        let (limits, clock, connections) = (limits.clone(), clock.clone(), connections.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let Tracked { id, mut ended, busy } = tracked;
            let _gone = Gone(&connections, id);
            let Some((stream, peer)) = handshake(tcp, config, &limits, &clock, &mut ended).await else {
                return;
            };
            if !connections.establish(id, &peer.oin, limits.max_connections_per_organisation) {
                metrics::counter!("doelpoort_tls_handshake_refused_total", "reason" => "organisation_connection_limit")
                    .increment(1);
                return;
            }
            let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(peer.clone());
                let (router, busy) = (router.clone(), Busy::start(&busy));
                async move {
                    let _busy = busy;
                    router.oneshot(req).await
                }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(ClockTimer(clock))
                .header_read_timeout(Duration::from_secs(limits.header_timeout_secs))
                .max_buf_size(limits.max_header_bytes.max(8192))
                .serve_connection(TokioIo::new(stream), service);
            metrics::gauge!("doelpoort_tls_connections_open").increment(1.0);
            tokio::select! {
                _ = watcher.watch(conn) => {}
                Ok(()) = &mut ended => {
                    metrics::counter!("doelpoort_tls_connections_evicted_total").increment(1);
                }
            }
            metrics::gauge!("doelpoort_tls_connections_open").decrement(1.0);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(drain, graceful.shutdown()).await;
}

/// A connection slot: a free one, or, when all are taken, one that a connection gives up (see
/// [`Connections::evict_one`]).
async fn slot(slots: &Arc<Semaphore>, connections: &Connections) -> Option<OwnedSemaphorePermit> {
    if let Ok(slot) = slots.clone().try_acquire_owned() {
        return Some(slot);
    }
    if !connections.evict_one() {
        return None;
    }
    // The evicted task returns its slot as soon as it runs.
    let freed = tokio::time::timeout(Duration::from_millis(100), slots.clone().acquire_owned()).await;
    freed.ok()?.ok()
}

/// Every open connection, oldest first: still in its handshake, or established for an organisation with the count
/// of its requests in progress. Ending one is sending on its `end`.
struct Connections {
    open: Mutex<BTreeMap<u64, Entry>>,
    next: AtomicU64,
}

struct Entry {
    /// `None` while the handshake runs.
    oin: Option<Oin>,
    busy: Arc<AtomicUsize>,
    end: Option<oneshot::Sender<()>>,
}

impl Entry {
    fn idle(&self) -> bool {
        self.end.is_some() && self.busy.load(Ordering::Acquire) == 0
    }
}

/// A registered connection's side: its id, the signal that ends it, and its count of requests in progress.
struct Tracked {
    id: u64,
    ended: oneshot::Receiver<()>,
    busy: Arc<AtomicUsize>,
}

/// Removes a connection from [`Connections`] when its task ends, however it ends.
struct Gone<'a>(&'a Connections, u64);

impl Drop for Gone<'_> {
    fn drop(&mut self) {
        self.0.lock().remove(&self.1);
    }
}

/// One request in progress on a connection, for as long as it lives.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn start(count: &Arc<AtomicUsize>) -> Busy {
        count.fetch_add(1, Ordering::AcqRel);
        Busy(count.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Connections {
    fn new() -> Connections {
        Connections {
            open: Mutex::new(BTreeMap::new()),
            next: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Entry>> {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn register(&self) -> Tracked {
        let (end, ended) = oneshot::channel();
        let (id, busy) = (self.next.fetch_add(1, Ordering::Relaxed), Arc::new(AtomicUsize::new(0)));
        let entry = Entry {
            oin: None,
            busy: busy.clone(),
            end: Some(end),
        };
        self.lock().insert(id, entry);
        Tracked { id, ended, busy }
    }

    /// Marks a connection established for `oin`. When the organisation holds `quota` connections already, its
    /// oldest idle one is ended to make room; when none of them is idle, the new one is refused (`false`).
    fn establish(&self, id: u64, oin: &Oin, quota: usize) -> bool {
        let mut open = self.lock();
        let theirs = open
            .values()
            .filter(|e| e.oin.as_ref() == Some(oin) && e.end.is_some())
            .count();
        if theirs >= quota {
            let oldest_idle = open.values_mut().find(|e| e.oin.as_ref() == Some(oin) && e.idle());
            if !oldest_idle.is_some_and(end) {
                return false;
            }
        }
        if let Some(entry) = open.get_mut(&id) {
            entry.oin = Some(oin.clone());
        }
        true
    }

    /// Ends one connection to make room at the cap: the oldest still in its handshake, else the oldest established
    /// one with no request in progress (idle between requests, or slow to send a request's head). One serving a
    /// request is never ended. `false` when there is none.
    fn evict_one(&self) -> bool {
        let mut open = self.lock();
        let handshaking = open.values_mut().find(|e| e.oin.is_none() && e.end.is_some());
        if handshaking.is_some_and(end) {
            metrics::counter!("doelpoort_tls_handshake_refused_total", "reason" => "evicted_at_capacity").increment(1);
            return true;
        }
        open.values_mut().find(|e| e.oin.is_some() && e.idle()).is_some_and(end)
    }
}

/// Sends the end signal of a connection (once); `false` when it had ended already.
fn end(entry: &mut Entry) -> bool {
    entry.end.take().is_some_and(|end| end.send(()).is_ok())
}

async fn handshake(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    limits: &Limits,
    clock: &SharedClock,
    evicted: &mut oneshot::Receiver<()>,
) -> Option<(tokio_rustls::server::TlsStream<TcpStream>, PeerCert)> {
    let _ = tcp.set_nodelay(true);
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let deadline = clock.sleep(Duration::from_secs(limits.handshake_timeout_secs));
    let result = tokio::select! {
        r = acceptor.accept(tcp) => r,
        () = deadline => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "handshake timed out")),
        Ok(()) = evicted => return None,
    };
    let stream = match result {
        Ok(s) => s,
        Err(e) => {
            let reason = refusal_reason(&e);
            metrics::counter!("doelpoort_tls_handshake_refused_total", "reason" => reason).increment(1);
            tracing::debug!(reason, "TLS handshake refused");
            return None;
        }
    };
    let peer = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|leaf| cert_facts(leaf).ok())
        .and_then(|f| {
            Some(PeerCert {
                oin: f.subject_oin.oin()?.clone(),
                serial: f.serial,
                thumbprint: f.thumbprint,
            })
        })?;
    metrics::counter!("doelpoort_tls_handshakes_total").increment(1);
    Some((stream, peer))
}
