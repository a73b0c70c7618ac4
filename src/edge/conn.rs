//! The TLS accept loop. Each accepted TCP connection gets its own task in which the handshake runs under a
//! timeout, so one stalled client never blocks another; a semaphore caps open connections, and when every slot is
//! taken the oldest connection still in its handshake is ended to make room (so connections that never start a
//! handshake cannot keep partners out); HTTP/1.1 is served with a header-read timeout that also ends idle
//! keep-alive connections.
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use std::collections::VecDeque;
use std::future::Future;
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
    let handshakes = Handshakes::new(limits.max_connections);
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
        let Some(slot) = slot(&slots, &handshakes).await else {
            metrics::counter!("doelpoort_tls_handshake_refused_total", "reason" => "connection_limit").increment(1);
            drop(tcp);
            continue;
        };
        let evicted = handshakes.register();
        let watcher = graceful.watcher();
        let config = tls.current();
        let router = router.clone();
        let limits = limits.clone();
        let clock = clock.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let Some((stream, peer)) = handshake(tcp, config, &limits, &clock, evicted).await else {
                return;
            };
            let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(peer.clone());
                router.clone().oneshot(req)
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(ClockTimer(clock))
                .header_read_timeout(Duration::from_secs(limits.header_timeout_secs))
                .max_buf_size(limits.max_header_bytes.max(8192))
                .serve_connection(TokioIo::new(stream), service);
            metrics::gauge!("doelpoort_tls_connections_open").increment(1.0);
            let _ = watcher.watch(conn).await;
            metrics::gauge!("doelpoort_tls_connections_open").decrement(1.0);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(drain, graceful.shutdown()).await;
}

/// A connection slot: a free one, or, when all are taken, the one the oldest unfinished handshake gives up.
async fn slot(slots: &Arc<Semaphore>, handshakes: &Handshakes) -> Option<OwnedSemaphorePermit> {
    if let Ok(slot) = slots.clone().try_acquire_owned() {
        return Some(slot);
    }
    if !handshakes.evict_oldest() {
        return None;
    }
    // The evicted task returns its slot as soon as it runs.
    let freed = tokio::time::timeout(Duration::from_millis(100), slots.clone().acquire_owned()).await;
    freed.ok()?.ok()
}

/// Connections still in their TLS handshake, oldest first, each with the means to end it.
struct Handshakes {
    queue: Mutex<VecDeque<oneshot::Sender<()>>>,
    prune_above: usize,
}

impl Handshakes {
    fn new(max_connections: usize) -> Handshakes {
        Handshakes {
            queue: Mutex::new(VecDeque::new()),
            prune_above: max_connections.saturating_mul(2).max(64),
        }
    }

    /// Registers a new connection; its handshake ends when the returned receiver fires.
    fn register(&self) -> oneshot::Receiver<()> {
        let (end, ended) = oneshot::channel();
        let mut queue = self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if queue.len() > self.prune_above {
            queue.retain(|s| !s.is_closed());
        }
        queue.push_back(end);
        ended
    }

    /// Ends the oldest handshake still running; `false` when there is none.
    fn evict_oldest(&self) -> bool {
        let mut queue = self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some(end) = queue.pop_front() {
            if end.send(()).is_ok() {
                return true;
            }
        }
        false
    }
}

async fn handshake(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    limits: &Limits,
    clock: &SharedClock,
    evicted: oneshot::Receiver<()>,
) -> Option<(tokio_rustls::server::TlsStream<TcpStream>, PeerCert)> {
    let _ = tcp.set_nodelay(true);
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let deadline = clock.sleep(Duration::from_secs(limits.handshake_timeout_secs));
    let result = tokio::select! {
        r = acceptor.accept(tcp) => r,
        () = deadline => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "handshake timed out")),
        Ok(()) = evicted => {
            metrics::counter!("doelpoort_tls_handshake_refused_total", "reason" => "evicted_at_capacity").increment(1);
            return None;
        }
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
