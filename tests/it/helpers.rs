//! A gateway per test (the demo fixture on a fresh database), a small HTTPS client that presents a client
//! certificate, and token minting — including the malformed tokens the refusal tests need.
#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bytes::Bytes;
use doelpoort::crypto::pki::{CertificateAuthority, ClientCertSpec, IssuedCertificate, TokenKeyPair};
use doelpoort::server::RunningServer;
use doelpoort::types::clock::{Clock, ClockSleep};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates a `sqlite` and a `postgres` test for each named scenario `async fn NAME(Backend)`.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}

/// A client identity: certificate and key in PEM.
#[derive(Clone)]
pub struct Identity {
    pub cert_pem: String,
    pub key_pem: String,
}

impl From<&IssuedCertificate> for Identity {
    fn from(c: &IssuedCertificate) -> Identity {
        Identity {
            cert_pem: c.pem.cert_pem.clone(),
            key_pem: c.pem.key_pem.clone(),
        }
    }
}

/// A demo organisation as a test sees it.
#[derive(Clone)]
pub struct Org {
    pub slug: &'static str,
    pub oin: String,
    pub identity: Identity,
    pub thumbprint: String,
    pub serial: String,
    pub key: TokenKeyPair,
}

/// The clock a test gateway runs on: the system's time plus an offset the test moves forward with
/// [`TestClock::advance`]. Every wait on it (a connection's header and handshake deadlines) ends when its time has
/// passed on this clock, by the system's time passing or by an advance.
#[derive(Clone, Default)]
pub struct TestClock {
    inner: Arc<ClockInner>,
}

#[derive(Default)]
struct ClockInner {
    offset: std::sync::Mutex<time::Duration>,
    moved: tokio::sync::Notify,
}

impl ClockInner {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + *self.offset.lock().unwrap()
    }
}

impl TestClock {
    /// Moves the clock forward by `by` and wakes every wait on it.
    pub fn advance(&self, by: time::Duration) {
        *self.inner.offset.lock().unwrap() += by;
        self.inner.moved.notify_waiters();
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        self.inner.now()
    }

    fn sleep(&self, duration: std::time::Duration) -> ClockSleep {
        let inner = self.inner.clone();
        let deadline = inner.now() + duration;
        Box::pin(async move {
            loop {
                let moved = inner.moved.notified();
                let left = deadline - inner.now();
                if left <= time::Duration::ZERO {
                    return;
                }
                tokio::select! {
                    () = tokio::time::sleep(left.try_into().unwrap_or_default()) => {}
                    () = moved => {}
                }
            }
        })
    }
}

pub struct Gateway {
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    pub ca: CertificateAuthority,
    pub ca_pem: String,
    /// The clock the gateway runs on.
    pub clock: TestClock,
    server: Option<RunningServer>,
    pg_database: Option<String>,
}

pub const HOST: &str = "zvh";

/// Records the demo fixture writes: each of the eight organisations onboarded, signed and given a certificate,
/// and the six demo people registered.
pub const FIXTURE: i64 = 8 * 3 + 6;

/// OINs of the demo organisations (`src/demo.rs`).
pub const ZVH: &str = "00000099000000000001";
pub const POLITIE: &str = "00000099000000000002";
pub const OM: &str = "00000099000000000003";
pub const RECLASSERING: &str = "00000099000000000004";
pub const GEMEENTE: &str = "00000099000000000005";
pub const WIJKTEAM: &str = "00000099000000000008";

impl Gateway {
    /// The demo fixture (CA, eight organisations, keys) on a fresh database of `backend`, served on port 0.
    pub async fn start(backend: Backend) -> Gateway {
        Gateway::start_with(backend, |_| {}).await
    }

    /// As [`Gateway::start`], with the configuration changed by `adjust` before the server starts.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut doelpoort::config::Config)) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let (url, pg_database) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => {
                let (url, name) = fresh_postgres_database().await;
                (Some(url), Some(name))
            }
        };
        let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let mut config = doelpoort::cli::demo::prepare(dir.path(), (listen, listen), url.as_deref())
            .await
            .unwrap();
        adjust(&mut config);
        let clock = TestClock::default();
        let server = doelpoort::server::start(config, Arc::new(clock.clone())).await.unwrap();
        let ca_pem = std::fs::read_to_string(dir.path().join("ca/ca.pem")).unwrap();
        let ca_key = std::fs::read_to_string(dir.path().join("ca/ca-key.pem")).unwrap();
        Gateway {
            addr: server.addr,
            metrics_addr: server.metrics_addr,
            ca: CertificateAuthority::from_pem(&ca_pem, &ca_key).unwrap(),
            ca_pem,
            clock,
            dir,
            server: Some(server),
            pg_database,
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("doelpoort.toml")
    }

    /// The configuration the server runs with (database URL included).
    pub fn config(&self) -> doelpoort::config::Config {
        self.app().config.clone()
    }

    /// A second gateway on this one's database (its own ports), as a second instance of one deployment runs;
    /// `clock` is usually this gateway's.
    pub async fn another_instance(&self, clock: doelpoort::types::clock::SharedClock) -> RunningServer {
        let mut config = self.config();
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.metrics_listen = "127.0.0.1:0".parse().unwrap();
        doelpoort::server::start(config, clock).await.unwrap()
    }

    pub fn app(&self) -> &doelpoort::app::AppState {
        &self.server.as_ref().unwrap().app
    }

    /// The newest `admin` record of the disclosure log.
    pub async fn newest_admin_record(&self) -> doelpoort::log::chain::Record {
        let filter = doelpoort::log::LogFilter {
            kinds: vec![doelpoort::log::chain::Kind::Admin],
            ..doelpoort::log::LogFilter::default()
        };
        self.app()
            .log
            .records()
            .query(&filter, i64::MAX, true, 1)
            .await
            .unwrap()
            .remove(0)
    }

    /// A demo organisation by its folder name.
    pub fn org(&self, slug: &'static str) -> Org {
        let d = self.dir.path().join("orgs").join(slug);
        let read = |n: &str| std::fs::read_to_string(d.join(n)).unwrap();
        let cert_pem = read("cert.pem");
        let der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap();
        let facts = doelpoort::crypto::pki::cert_facts(&der).unwrap();
        Org {
            slug,
            oin: read("oin").trim().to_owned(),
            identity: Identity {
                cert_pem,
                key_pem: read("key.pem"),
            },
            thumbprint: facts.thumbprint,
            serial: facts.serial,
            key: TokenKeyPair::from_pem(&read("token-key.pem")).unwrap(),
        }
    }

    /// A demo person's personal certificate and key (`DIR/people/SLUG`).
    pub fn person(&self, slug: &str) -> Identity {
        let d = self.dir.path().join("people").join(slug);
        Identity {
            cert_pem: std::fs::read_to_string(d.join("cert.pem")).unwrap(),
            key_pem: std::fs::read_to_string(d.join("key.pem")).unwrap(),
        }
    }

    /// A client certificate from the gateway's CA for `oin`, as `spec` is changed by `adjust`.
    pub fn issue(&self, oin: &str, adjust: impl FnOnce(&mut ClientCertSpec)) -> IssuedCertificate {
        let mut spec = ClientCertSpec::new("Test Org", oin, OffsetDateTime::now_utc(), 30);
        adjust(&mut spec);
        self.ca.issue_client(&spec).unwrap()
    }

    /// Opens a TLS connection presenting `identity`.
    pub async fn connect(&self, identity: Option<&Identity>) -> std::io::Result<Client> {
        Client::connect(self.addr, &self.ca_pem, identity).await
    }

    /// A professional token of `roles` for `org`, issued now on the gateway's clock.
    pub fn token(&self, org: &Org, roles: &[&str]) -> String {
        let mut c = claims(org, roles);
        let now = self.clock.now().unix_timestamp();
        c["iat"] = json!(now);
        c["nbf"] = json!(now);
        c["exp"] = json!(now + 600);
        mint(&org.key, header(&org.key), c)
    }

    /// One request on a new connection as `org` with a fresh professional token of `roles`.
    pub async fn call(&self, org: &Org, roles: &[&str], method: Method, path: &str, body: Option<Value>) -> Response {
        let token = self.token(org, roles);
        let mut client = self.connect(Some(&org.identity)).await.unwrap();
        client.send(method, path, Some(&token), body).await.unwrap()
    }

    /// As [`Gateway::call`] with the host's admin role.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let host = self.org(HOST);
        self.call(&host, &["admin"], method, path, body).await
    }

    /// Runs the `doelpoort` command line with `args` and `--config` of this gateway (its database included).
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        self.cli_with(args, |_| {})
    }

    /// As [`Gateway::cli`], with the command adjusted first (its environment, say).
    pub fn cli_with(&self, args: &[&str], adjust: impl FnOnce(&mut std::process::Command)) -> std::process::Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_doelpoort"));
        command
            .args(args)
            .arg("--config")
            .arg(self.config_path())
            .env("DOELPOORT_DATABASE_URL", self.config().database_url);
        adjust(&mut command);
        command.output().unwrap()
    }

    /// Waits until the running server has picked up a change another process made in the database.
    pub async fn settle(&self) {
        let app = self.app();
        let target = app.store.registry_generation().await.unwrap();
        for _ in 0..100 {
            if app.registry.current().generation == target {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the gateway did not pick up the change within 5 s");
    }

    /// Shuts the server down (gracefully) but keeps its directory and database for inspection.
    pub async fn stop_server(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }

    pub async fn stop(mut self) {
        self.stop_server().await;
        if let Some(db) = self.pg_database.take() {
            drop_postgres_database(&db).await;
        }
    }
}

/// A migrated database of `backend` with no gateway in front: a SQLite file in a temporary folder, or a fresh
/// PostgreSQL database (dropped by [`TestDb::drop`]).
pub struct TestDb {
    pub store: doelpoort::store::Store,
    pub url: String,
    _dir: tempfile::TempDir,
    pg_database: Option<String>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let (url, pg_database) = match backend {
            Backend::Sqlite => (format!("sqlite://{}", dir.path().join("db.sqlite").display()), None),
            Backend::Postgres => {
                let (url, name) = fresh_postgres_database().await;
                (url, Some(name))
            }
        };
        let store = doelpoort::store::Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        TestDb {
            store,
            url,
            _dir: dir,
            pg_database,
        }
    }

    pub async fn drop(self) {
        self.store.close().await;
        if let Some(db) = &self.pg_database {
            drop_postgres_database(db).await;
        }
    }
}

fn postgres_admin_url() -> String {
    std::env::var("DOELPOORT_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("the PostgreSQL half of the suite needs DOELPOORT_TEST_POSTGRES_URL; run scripts/test, which sets it up")
    })
}

async fn fresh_postgres_database() -> (String, String) {
    use sqlx::Connection;
    let admin = postgres_admin_url();
    let name = format!("doelpoort_test_{}", hex::encode(rand_bytes::<8>()));
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    conn.close().await.unwrap();
    let base = admin.rsplit_once('/').unwrap().0;
    (format!("{base}/{name}"), name)
}

async fn drop_postgres_database(name: &str) {
    use sqlx::Connection;
    if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
        let _ = sqlx::Executor::execute(
            &mut conn,
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
        )
        .await;
        let _ = conn.close().await;
    }
}

pub fn rand_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).unwrap();
    b
}

/// An HTTP/1.1 connection over mutual TLS.
pub struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: hyper::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Asserts status and problem code, and that the body is a problem document.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text);
        assert_eq!(self.code(), code, "code; body: {}", self.text);
        assert_eq!(self.headers["content-type"], "application/problem+json");
        assert_eq!(self.body["status"].as_u64(), Some(u64::from(status)));
        assert!(self.body["title"].is_string() && self.body["detail"].is_string() && self.body["type"].is_string());
    }
}

impl Client {
    /// Whether the gateway has closed this connection.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    pub async fn connect(addr: SocketAddr, ca_pem: &str, identity: Option<&Identity>) -> std::io::Result<Client> {
        let tls = tls_stream(addr, ca_pem, identity).await?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(std::io::Error::other)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Client { sender })
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<Response, hyper::Error> {
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        self.send_raw(method, path, token, "application/json", bytes.into_bytes())
            .await
    }

    pub async fn send_raw(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Response, hyper::Error> {
        self.send_with(method, path, token, &[("content-type", content_type)], body)
            .await
    }

    /// Sends a request as built by the test, for what `send_with` cannot say (header bytes that are not text).
    pub async fn send_request(
        &mut self,
        req: Request<Full<Bytes>>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, hyper::Error> {
        self.sender.ready().await?;
        self.sender.send_request(req).await
    }

    /// A request with extra `headers` (`content-type` is sent only with a body).
    pub async fn send_with(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Response, hyper::Error> {
        let mut req = Request::builder().method(method).uri(path).header("host", "localhost");
        for (name, value) in headers {
            if *name != "content-type" || !body.is_empty() {
                req = req.header(*name, *value);
            }
        }
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        self.sender.ready().await?;
        let res = self
            .sender
            .send_request(req.body(Full::new(Bytes::from(body))).unwrap())
            .await?;
        let (parts, body) = res.into_parts();
        let bytes = body.collect().await?.to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Ok(Response {
            status: parts.status,
            headers: parts.headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        })
    }
}

/// A TLS connection to the gateway presenting `identity`, for tests that write raw bytes (half a request head, a
/// body that never ends).
pub async fn tls_stream(
    addr: SocketAddr,
    ca_pem: &str,
    identity: Option<&Identity>,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        Some(id) => {
            let certs = CertificateDer::pem_slice_iter(id.cert_pem.as_bytes())
                .map(Result::unwrap)
                .collect();
            let key = PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes()).unwrap();
            builder.with_client_auth_cert(certs, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

/// Whether a connection with `identity` gets any HTTP response to `GET /healthz`. (With TLS 1.3 the server
/// refuses the client certificate after the client considers the handshake done, so the refusal shows up
/// as a failed first request.)
pub async fn gets_http_response(gw: &Gateway, identity: Option<&Identity>) -> bool {
    match gw.connect(identity).await {
        Ok(mut c) => c.send(Method::GET, "/healthz", None, None).await.is_ok(),
        Err(_) => false,
    }
}

pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// A valid professional token for `org`, bound to its demo certificate.
pub fn token_for(org: &Org, roles: &[&str]) -> String {
    mint(&org.key, header(&org.key), claims(org, roles))
}

pub fn header(key: &TokenKeyPair) -> Value {
    json!({"alg": "EdDSA", "typ": "at+jwt", "kid": key.kid})
}

pub fn claims(org: &Org, roles: &[&str]) -> Value {
    let now = now();
    json!({
        "iss": org.oin, "aud": "doelpoort", "sub": "professional-1", "iat": now, "nbf": now, "exp": now + 600,
        "roles": roles, "cnf": {"x5t#S256": org.thumbprint},
    })
}

/// Signs any header and claims with an Ed25519 key (the header is taken as given, so tests can lie in it).
pub fn mint(key: &TokenKeyPair, header: Value, claims: Value) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(key.private_pem.as_bytes()).unwrap();
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der.secret_pkcs8_der()).unwrap();
    let sig = pair.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

/// A token with a header and claims but signed with HMAC-SHA256 under `secret`.
pub fn mint_hs256(secret: &[u8], header: Value, claims: Value) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let tag = ring::hmac::sign(&key, signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// Onboards a further organisation through the admin API (with a covenant signature when `signed`) and gives it a
/// client certificate and token key.
pub async fn onboard(gw: &Gateway, oin: &str, kind: &str, roles: &[&str], signed: bool) -> Org {
    let key = TokenKeyPair::generate().unwrap();
    let body = json!({"oin": oin, "name": format!("Test {kind}"), "kind": kind, "covenant_roles": roles,
        "jwks": key.jwks()});
    let r = gw.admin(Method::POST, "/v1/admin/organisations", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    if signed {
        let sig = json!({"version": "2026.1", "signed_on": "2026-01-15", "signatory": "Raad van bestuur"});
        let path = format!("/v1/admin/organisations/{oin}/signatures");
        assert_eq!(gw.admin(Method::POST, &path, Some(sig)).await.status, 201);
    }
    let cert = gw.issue(oin, |_| {});
    Org {
        slug: "onboarded",
        oin: oin.into(),
        identity: (&cert).into(),
        thumbprint: cert.thumbprint.clone(),
        serial: cert.serial.clone(),
        key,
    }
}

/// An RFC 3339 instant `seconds` from now.
pub fn at(seconds: i64) -> String {
    doelpoort::types::clock::rfc3339(OffsetDateTime::now_utc() + time::Duration::seconds(seconds))
}

/// An id or OIN from a response, as the library's type.
#[track_caller]
pub fn typed<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().unwrap()
}

/// `GET /metrics` on the operators' plain listener.
pub async fn reqwest_metrics(gw: &Gateway) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(gw.metrics_addr).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

/// A P-256 key and a certificate request for `subject` (openssl's `/k=v/…` form) made by openssl in a new folder
/// (`key.pem`, `req.pem`), as a partner makes them; `None` when openssl is not installed.
pub fn openssl_request(subject: &str) -> Option<tempfile::TempDir> {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| openssl_in(dir.path(), args);
    run(&["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.ec"])?;
    run(&["pkcs8", "-topk8", "-nocrypt", "-in", "key.ec", "-out", "key.pem"])?;
    run(&["req", "-new", "-key", "key.pem", "-subj", subject, "-out", "req.pem"])?;
    Some(dir)
}

fn openssl_in(dir: &std::path::Path, args: &[&str]) -> Option<std::process::Output> {
    std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
}

/// A client certificate with subject `subject` (openssl's `/k=v/…` form) made by openssl from the gateway's CA,
/// for subjects rcgen will not write; `None` when openssl is not installed.
pub fn openssl_client_cert(gw: &Gateway, subject: &str) -> Option<Identity> {
    let dir = openssl_request(subject)?;
    let path = |n: &str| dir.path().join(n);
    let ca = gw.dir.path().join("ca");
    let extensions = "extendedKeyUsage = clientAuth\nkeyUsage = digitalSignature\n";
    std::fs::write(path("ext.cnf"), extensions).unwrap();
    let (ca_cert, ca_key) = (ca.join("ca.pem"), ca.join("ca-key.pem"));
    let (ca_cert, ca_key) = (ca_cert.to_str().unwrap(), ca_key.to_str().unwrap());
    openssl_in(
        dir.path(),
        &[
            "x509",
            "-req",
            "-in",
            "req.pem",
            "-CA",
            ca_cert,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            "ext.cnf",
            "-out",
            "cert.pem",
        ],
    )?;
    Some(Identity {
        cert_pem: std::fs::read_to_string(path("cert.pem")).unwrap(),
        key_pem: std::fs::read_to_string(path("key.pem")).unwrap(),
    })
}
