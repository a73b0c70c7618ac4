//! The TLS accept loop. Each accepted TCP connection gets its own task in which the handshake runs under a
//! timeout, so one stalled client never blocks another; a semaphore caps open connections; HTTP/1.1 is served
//! with a header-read timeout that also ends idle keep-alive connections.
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::config::Limits;
use crate::edge::tls::{refusal_reason, TlsState};
use crate::pki::cert_facts;

/// The verified client certificate of a connection, attached to each of its requests.
#[derive(Debug, Clone)]
pub struct PeerCert {
    /// The OIN from the subject `serialNumber` (checked to be 20 digits during the handshake).
    pub oin: String,
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
    limits: Limits,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
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
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            metrics::counter!("doelpoort_tls_handshake_refused_total", "reason" => "connection_limit").increment(1);
            drop(tcp);
            continue;
        };
        let watcher = graceful.watcher();
        let config = tls.current();
        let router = router.clone();
        let limits = limits.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let Some((stream, peer)) = handshake(tcp, config, &limits).await else {
                return;
            };
            let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(peer.clone());
                router.clone().oneshot(req)
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
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

async fn handshake(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    limits: &Limits,
) -> Option<(tokio_rustls::server::TlsStream<TcpStream>, PeerCert)> {
    let _ = tcp.set_nodelay(true);
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let timeout = Duration::from_secs(limits.handshake_timeout_secs);
    let result = match tokio::time::timeout(timeout, acceptor.accept(tcp)).await {
        Ok(r) => r,
        Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "handshake timed out")),
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
                oin: f.subject_serial_number?,
                serial: f.serial,
                thumbprint: f.thumbprint,
            })
        })?;
    metrics::counter!("doelpoort_tls_handshakes_total").increment(1);
    Some((stream, peer))
}
