//! `doelpoort demo`: from nothing to a serving gateway with the sample covenant's organisations. Everything it
//! makes lives in one directory; running it again reuses what is there.
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use crate::cli::{say, Failure};
use crate::config::Config;
use crate::covenant::Covenant;
use crate::crypto::pki::{CertificateAuthority, ClientCertSpec, TokenKeyPair};
use crate::log::actor::AnyActor;
use crate::orgs::onboarding::{self, NewOrg, Signature};
use crate::orgs::people::{self, Credential, NewPerson};
use crate::types::UserRole;

/// The demo's host organisation (the ZVH).
pub const HOST_OIN: &str = "00000099000000000001";

/// A demo organisation: directory name, display name, kind, covenant roles, OIN.
pub struct DemoOrg {
    pub slug: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub roles: &'static [&'static str],
    pub oin: &'static str,
    /// The municipalities it is onboarded for (CBS codes).
    pub municipalities: &'static [&'static str],
}

/// The sample covenant's organisations (contract, "The demo directory"). The OINs are made up.
pub const ORGS: [DemoOrg; 8] = [
    DemoOrg {
        slug: "zvh",
        name: "Zorg- en Veiligheidshuis Demo",
        kind: "ketenpartner",
        roles: &["zvh"],
        oin: HOST_OIN,
        municipalities: &[],
    },
    DemoOrg {
        slug: "politie",
        name: "Politie Eenheid Demo",
        kind: "ketenpartner",
        roles: &["politie"],
        oin: "00000099000000000002",
        municipalities: &[],
    },
    DemoOrg {
        slug: "om",
        name: "Openbaar Ministerie Demo",
        kind: "ketenpartner",
        roles: &["om"],
        oin: "00000099000000000003",
        municipalities: &[],
    },
    DemoOrg {
        slug: "reclassering",
        name: "Reclassering Demo",
        kind: "ketenpartner",
        roles: &["reclassering"],
        oin: "00000099000000000004",
        municipalities: &[],
    },
    DemoOrg {
        slug: "gemeente",
        name: "Gemeente Demo",
        kind: "ketenpartner",
        roles: &["gemeente"],
        oin: "00000099000000000005",
        municipalities: &["GM0268"],
    },
    DemoOrg {
        slug: "ggd",
        name: "GGD Demo",
        kind: "ketenpartner",
        roles: &["ggd"],
        oin: "00000099000000000006",
        municipalities: &[],
    },
    DemoOrg {
        slug: "woningcorporatie",
        name: "Woningcorporatie Demo",
        kind: "convenantpartner",
        roles: &["woningcorporatie"],
        oin: "00000099000000000007",
        municipalities: &[],
    },
    DemoOrg {
        slug: "wijkteam",
        name: "Sociaal Wijkteam Demo",
        kind: "convenantpartner",
        roles: &["wijkteam"],
        oin: "00000099000000000008",
        municipalities: &[],
    },
];

/// The sample covenant shipped inside the binary, written to DIR/policies when no `policies/` is at hand.
/// A demo person: slug (the folder under `DIR/people/` and the person's id), organisation slug, name, roles.
pub struct DemoPerson {
    pub slug: &'static str,
    pub org: &'static str,
    pub name: &'static str,
    pub roles: &'static [UserRole],
}

/// The contract's six demo people.
pub const PEOPLE: [DemoPerson; 6] = [
    DemoPerson {
        slug: "zvh-fg",
        org: "zvh",
        name: "Femke Geerts (FG)",
        roles: &[UserRole::PrivacyOfficer],
    },
    DemoPerson {
        slug: "zvh-beheerder",
        org: "zvh",
        name: "Bas Beheer",
        roles: &[UserRole::Admin],
    },
    DemoPerson {
        slug: "zvh-regisseur",
        org: "zvh",
        name: "Rana Regie",
        roles: &[UserRole::Procesregisseur, UserRole::Professional],
    },
    DemoPerson {
        slug: "politie-privacy",
        org: "politie",
        name: "Pieter Privacy",
        roles: &[UserRole::PrivacyOfficer],
    },
    DemoPerson {
        slug: "gemeente-medewerker",
        org: "gemeente",
        name: "Gerda Gemeente",
        roles: &[UserRole::Professional],
    },
    DemoPerson {
        slug: "wijkteam-medewerker",
        org: "wijkteam",
        name: "Wim Wijkteam",
        roles: &[UserRole::Professional],
    },
];

/// The PKCS#12 password of the demo people's `person.p12`.
pub const P12_PASSWORD: &str = "demo";

const SAMPLE_COVENANT: [(&str, &str); 3] = [
    (
        crate::covenant::METADATA_FILE,
        include_str!("../../policies/covenant.toml"),
    ),
    (
        crate::covenant::MODEL_FILE,
        include_str!("../../policies/covenant_model.conf"),
    ),
    (
        crate::covenant::POLICY_FILE,
        include_str!("../../policies/covenant_policy.csv"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the system's random number generator failed")]
    Random,
    #[error(transparent)]
    Pki(#[from] crate::crypto::pki::PkiError),
    #[error(transparent)]
    Covenant(#[from] crate::covenant::CovenantError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Onboarding(#[from] onboarding::OnboardingError),
    #[error("seeding the demo failed: {0}")]
    Seed(String),
}

/// Create (or reuse) a demo directory with CA, certificates, keys and database, then serve.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    #[arg(long, default_value = "demo")]
    pub dir: PathBuf,
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// The operators' listener (`/metrics`, `/healthz`); by default on loopback, port `--listen`'s + 1021 (9464 for
    /// 8443; any free port when `--listen` takes any).
    #[arg(long)]
    pub metrics_listen: Option<SocketAddr>,
    /// Use this database instead of DIR/doelpoort.db (for example PostgreSQL); a later `serve --config
    /// DIR/doelpoort.toml` needs DOELPOORT_DATABASE_URL set to the same.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Fill a demo that holds no cases yet with N synthetic cases over the past year (three municipalities, every
    /// outcome, repeat reports, radicalisation), through the gateway's own API; skipped when cases exist.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub seed: Option<u32>,
}

/// The operators' listener that goes with `listen`: on loopback, port `listen`'s + 1021, or any free port.
pub fn metrics_listen_for(listen: SocketAddr) -> SocketAddr {
    let port = match listen.port() {
        0 => 0,
        p => p.checked_add(1021).unwrap_or(0),
    };
    SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port)
}

/// `doelpoort demo`: prepares the directory, serves, and prints the lines to paste.
///
/// # Errors
/// The directory cannot be prepared or the gateway cannot start.
pub async fn run(args: DemoArgs) -> Result<(), Failure> {
    let metrics = args.metrics_listen.unwrap_or_else(|| metrics_listen_for(args.listen));
    let config = prepare(&args.dir, (args.listen, metrics), args.database_url.as_deref()).await?;
    if let Some(n) = args.seed {
        seed_once(&config, &args.dir, n).await?;
    }
    let signal = crate::server::shutdown_signal()?;
    let server = crate::server::start(config, std::sync::Arc::new(crate::types::clock::SystemClock)).await?;
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("doelpoort"));
    let dir = args.dir.canonicalize()?;
    write(&dir.join("demo.env"), &environment(&dir, server.addr, &exe), false)?;
    say!("{}", instructions(&dir, server.addr, server.metrics_addr, &exe));
    crate::server::run_until(server, signal).await;
    Ok(())
}

/// Seeds `n` cases unless the demo holds cases already.
async fn seed_once(config: &Config, dir: &Path, n: u32) -> Result<(), Failure> {
    let store = crate::server::open_store(config).await?;
    let empty = store.case_count().await? == 0;
    store.close().await;
    if !empty {
        say!("the demo holds cases already; --seed leaves them as they are");
        return Ok(());
    }
    let dir = dir.canonicalize()?;
    let seeded = super::seed::seed(config, &dir, n, OffsetDateTime::now_utc()).await?;
    say!(
        "seeded {} synthetic cases over the past year: {} steps through the API, {} refused {:?}",
        seeded.cases,
        seeded.steps,
        seeded.failed,
        seeded.refused
    );
    Ok(())
}

/// Creates (or reuses) the demo directory and returns the configuration to serve with on the `(listen,
/// metrics)` addresses, which the stored configuration is brought up to date with. `database_url` replaces the
/// demo's SQLite file (the tests run the same fixture on PostgreSQL).
///
/// # Errors
/// A file cannot be written or read, or the database cannot be prepared.
pub async fn prepare(
    dir: &Path,
    (listen, metrics): (SocketAddr, SocketAddr),
    database_url: Option<&str>,
) -> Result<Config, DemoError> {
    let now = OffsetDateTime::now_utc();
    mkdir(dir)?;
    let dir = dir.canonicalize().map_err(|source| DemoError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let ca = ensure_ca(&dir, now)?;
    ensure_server_cert(&dir, &ca, listen.ip(), now)?;
    let config_path = dir.join("doelpoort.toml");
    if config_path.exists() {
        set_addresses(&config_path, listen, metrics)?;
    } else {
        let covenant_dir = covenant_dir(&dir)?;
        write(&config_path, &config_text((listen, metrics), &covenant_dir), false)?;
    }
    ensure_log_keys(&dir, &config_path)?;
    let mut config = Config::load(&config_path)?;
    if let Some(url) = database_url {
        config.database_url = url.to_owned();
    }
    let store = crate::server::open_store(&config).await?;
    let actor = AnyActor::operator("demo");
    let covenant = Covenant::load(&config.covenant_dir)?;
    for org in &ORGS {
        let org_dir = dir.join("orgs").join(org.slug);
        mkdir(&org_dir)?;
        let key = ensure_token_key(&org_dir)?;
        if !org_dir.join("cert.pem").exists() {
            let issued = ca.issue_client(&ClientCertSpec::new(org.name, org.oin, now, 365))?;
            write(&org_dir.join("key.pem"), &issued.pem.key_pem, true)?;
            write(&org_dir.join("cert.pem"), &issued.pem.cert_pem, false)?;
            write(&org_dir.join("oin"), &format!("{}\n", org.oin), false)?;
            onboard(&store, &covenant, &actor, org, &key, (&config.host_oin, now)).await?;
            onboarding::record_certificate(&store, now, &actor, org.oin, &issued.signed()).await?;
        } else {
            onboard(&store, &covenant, &actor, org, &key, (&config.host_oin, now)).await?;
        }
    }
    for person in &PEOPLE {
        register(&store, &dir, &ca, &actor, person, (&config.host_oin, now)).await?;
    }
    store.close().await;
    Ok(config)
}

/// Registers a demo person with a certificate from the demo CA and writes `DIR/people/SLUG/{cert.pem, key.pem,
/// person.p12}`, unless they are registered already.
async fn register(
    store: &crate::store::Store,
    dir: &Path,
    ca: &CertificateAuthority,
    actor: &AnyActor,
    person: &DemoPerson,
    (host, now): (&crate::types::Oin, OffsetDateTime),
) -> Result<(), DemoError> {
    let oin = ORGS.iter().find(|o| o.slug == person.org).map_or(HOST_OIN, |o| o.oin);
    let out = dir.join("people").join(person.slug);
    if store.person(oin, person.slug).await?.is_some() {
        return Ok(());
    }
    let new = NewPerson {
        oin: oin.to_owned(),
        id: person.slug.to_owned(),
        name: person.name.to_owned(),
        roles: person.roles.to_vec(),
    };
    let registered = people::add(store, Some(ca), (now, actor, host), &new, Credential::Issue).await?;
    if let Some(issued) = registered.issued {
        mkdir(&out)?;
        write(&out.join("key.pem"), &issued.pem.key_pem, true)?;
        write(&out.join("cert.pem"), &issued.pem.cert_pem, false)?;
        let p12 = crate::crypto::pki::pkcs12(&issued.pem, ca.cert_pem(), P12_PASSWORD)?;
        let path = out.join("person.p12");
        std::fs::write(&path, p12).map_err(|source| DemoError::Write { path, source })?;
    }
    Ok(())
}

async fn onboard(
    store: &crate::store::Store,
    covenant: &Covenant,
    actor: &AnyActor,
    org: &DemoOrg,
    key: &TokenKeyPair,
    (host, now): (&crate::types::Oin, OffsetDateTime),
) -> Result<(), DemoError> {
    if store.organisation(org.oin).await?.is_some() {
        return Ok(());
    }
    let new = NewOrg {
        oin: org.oin.into(),
        name: org.name.into(),
        kind: org.kind.into(),
        covenant_roles: org.roles.iter().map(|r| (*r).to_owned()).collect(),
        jwks: key.jwks(),
        municipalities: org.municipalities.iter().map(|m| (*m).to_owned()).collect(),
    };
    onboarding::add(store, covenant, (host, now), actor, &new).await?;
    let signature = Signature {
        version: covenant.version.clone(),
        signed_on: now.date().to_string(),
        signatory: format!("Directie {}", org.name),
    };
    onboarding::sign(store, now, actor, org.oin, &signature).await?;
    Ok(())
}

fn ensure_ca(dir: &Path, now: OffsetDateTime) -> Result<CertificateAuthority, DemoError> {
    let (cert, key) = (dir.join("ca/ca.pem"), dir.join("ca/ca-key.pem"));
    if cert.exists() && key.exists() {
        return Ok(CertificateAuthority::from_pem(&read(&cert)?, &read(&key)?)?);
    }
    mkdir(&dir.join("ca"))?;
    let ca = CertificateAuthority::generate("Doelpoort Demo CA", now)?;
    write(&key, &ca.key_pem(), true)?;
    write(&cert, ca.cert_pem(), false)?;
    Ok(ca)
}

/// Issues the server certificate unless one exists that already names the listen address.
fn ensure_server_cert(dir: &Path, ca: &CertificateAuthority, ip: IpAddr, now: OffsetDateTime) -> Result<(), DemoError> {
    let (cert, key) = (dir.join("server/cert.pem"), dir.join("server/key.pem"));
    if cert.exists() && key.exists() && (ip.is_unspecified() || names_ip(&read(&cert)?, ip)) {
        return Ok(());
    }
    mkdir(&dir.join("server"))?;
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    if !ip.is_unspecified() && !ip.is_loopback() {
        names.push(ip.to_string());
    }
    let pair = ca.issue_server(&names, now)?;
    write(&key, &pair.key_pem, true)?;
    write(&cert, &pair.cert_pem, false)?;
    Ok(())
}

fn names_ip(cert_pem: &str, ip: IpAddr) -> bool {
    use rustls_pki_types::pem::PemObject;
    let Ok(der) = rustls_pki_types::CertificateDer::from_pem_slice(cert_pem.as_bytes()) else {
        return false;
    };
    let Ok((_, cert)) = X509Certificate::from_der(der.as_ref()) else {
        return false;
    };
    let octets: Vec<u8> = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    matches!(cert.subject_alternative_name(), Ok(Some(san))
        if san.value.general_names.iter().any(|n| matches!(n, GeneralName::IPAddress(b) if *b == octets.as_slice())))
}

/// The pseudonym, checkpoint and master keys under `DIR/keys/`; a config from before them gets its `[log]` and
/// `[content]` sections appended.
fn ensure_log_keys(dir: &Path, config_path: &Path) -> Result<(), DemoError> {
    let keys = dir.join("keys");
    mkdir(&keys)?;
    let pseudonym = keys.join("pseudonym.key");
    if !pseudonym.exists() {
        let secret = crate::crypto::new_secret_hex().ok_or(DemoError::Random)?;
        write(&pseudonym, &format!("{secret}\n"), true)?;
    }
    let checkpoint = keys.join("checkpoint-key.pem");
    if !checkpoint.exists() {
        write(&checkpoint, &TokenKeyPair::generate()?.private_pem, true)?;
    }
    let master = keys.join("master.key");
    if !master.exists() {
        let secret = crate::crypto::new_secret_hex().ok_or(DemoError::Random)?;
        write(&master, &format!("{secret}\n"), true)?;
    }
    for (header, section) in [("[log]", LOG_SECTION), ("[content]", CONTENT_SECTION)] {
        let text = read(config_path)?;
        if !text.lines().any(|l| l.trim() == header) {
            write(config_path, &format!("{}\n{section}", text.trim_end()), false)?;
        }
    }
    Ok(())
}

const CONTENT_SECTION: &str = r#"
[content]
master_key_file = "keys/master.key"
"#;

const LOG_SECTION: &str = r#"
[log]
pseudonym_key_file = "keys/pseudonym.key"
checkpoint_key_file = "keys/checkpoint-key.pem"
checkpoint_interval_secs = 300
"#;

fn ensure_token_key(org_dir: &Path) -> Result<TokenKeyPair, DemoError> {
    let path = org_dir.join("token-key.pem");
    if path.exists() {
        return Ok(TokenKeyPair::from_pem(&read(&path)?)?);
    }
    let key = TokenKeyPair::generate()?;
    write(&path, &key.private_pem, true)?;
    Ok(key)
}

/// `./policies` when the demo runs from a checkout, otherwise the sample covenant written into the demo folder.
fn covenant_dir(dir: &Path) -> Result<PathBuf, DemoError> {
    if let Ok(p) = Path::new("policies").canonicalize() {
        if p.join("covenant.toml").exists() {
            return Ok(p);
        }
    }
    let p = dir.join("policies");
    mkdir(&p)?;
    for (name, text) in SAMPLE_COVENANT {
        if !p.join(name).exists() {
            write(&p.join(name), text, false)?;
        }
    }
    Ok(p)
}

/// Brings the `listen` and `metrics_listen` lines of a demo configuration up to date, so that a later `serve
/// --config` of it listens where the demo did.
fn set_addresses(config_path: &Path, listen: SocketAddr, metrics: SocketAddr) -> Result<(), DemoError> {
    let text = read(config_path)?;
    let lines: Vec<String> = text
        .lines()
        .map(|l| match l.split_once('=').map(|(k, _)| k.trim()) {
            Some("listen") => format!("listen = \"{listen}\""),
            Some("metrics_listen") => format!("metrics_listen = \"{metrics}\""),
            _ => l.to_owned(),
        })
        .collect();
    let updated = lines.join("\n") + "\n";
    if updated != text {
        write(config_path, &updated, false)?;
    }
    Ok(())
}

fn config_text((listen, metrics): (SocketAddr, SocketAddr), covenant_dir: &Path) -> String {
    format!(
        r#"# Doelpoort demo configuration (made by `doelpoort demo`). Every key can be overridden by DOELPOORT_<KEY>.
listen = "{listen}"
metrics_listen = "{metrics}"
database_url = "sqlite://doelpoort.db"
host_oin = "{HOST_OIN}"
audience = "doelpoort"
covenant_dir = "{}"

[tls]
cert_file = "server/cert.pem"
key_file = "server/key.pem"
client_ca_files = ["ca/ca.pem"]
own_ca_cert_file = "ca/ca.pem"
own_ca_key_file = "ca/ca-key.pem"
"#,
        covenant_dir
            .display()
            .to_string()
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
    )
}

/// `DIR/demo.env`: the shell variables the README's walkthrough uses (`D` the demo folder, `B` the binary, `URL`
/// the gateway), for `. DIR/demo.env` from any folder.
fn environment(dir: &Path, addr: SocketAddr, exe: &Path) -> String {
    format!(
        "# Made by `doelpoort demo`; load with: . {}\nD={}\nB={}\nURL={}\n",
        sh_quote(&dir.join("demo.env").display().to_string()),
        sh_quote(&dir.display().to_string()),
        sh_quote(&exe.display().to_string()),
        base_url(addr)
    )
}

/// The gateway's address as clients write it (its certificate names `localhost` and the listen address).
fn base_url(addr: SocketAddr) -> String {
    let host = if addr.ip().is_loopback() || addr.ip().is_unspecified() {
        "localhost".to_owned()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    format!("https://{host}:{}", addr.port())
}

/// The lines printed once the demo serves: tokens and curl calls that work when pasted.
pub fn instructions(dir: &Path, addr: SocketAddr, metrics: SocketAddr, exe: &Path) -> String {
    let base = base_url(addr);
    let (exe, d) = (sh_quote(&exe.display().to_string()), dir.display().to_string());
    let curl = |slug: &str| {
        format!(
            "curl --cacert {} --cert {} --key {}",
            sh_quote(&format!("{d}/ca/ca.pem")),
            sh_quote(&format!("{d}/orgs/{slug}/cert.pem")),
            sh_quote(&format!("{d}/orgs/{slug}/key.pem"))
        )
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Doelpoort demo gateway is serving on {base} (metrics: http://{metrics}/metrics)."
    );
    let _ = writeln!(
        out,
        "Organisations and their keys are in {d}. Paste these lines into a shell:\n"
    );
    let _ = writeln!(out, "  {} {base}/healthz", curl("politie"));
    let _ = writeln!(
        out,
        "  TOKEN=$({exe} token --dir {} --org politie --sub agent-0042 --roles professional)",
        sh_quote(&d)
    );
    let _ = writeln!(
        out,
        "  {} -H \"Authorization: Bearer $TOKEN\" {base}/v1/whoami",
        curl("politie")
    );
    let _ = writeln!(
        out,
        "  ADMIN=$({exe} token --dir {} --org zvh --sub beheerder-01 --roles admin)",
        sh_quote(&d)
    );
    let _ = writeln!(
        out,
        "  {} -H \"Authorization: Bearer $ADMIN\" {base}/v1/admin/organisations",
        curl("zvh")
    );
    let _ = writeln!(
        out,
        "\nThe console is at {base}/console/ for the demo people: import {} (password `{P12_PASSWORD}`) \
         into Firefox (Settings > Privacy & Security > Certificates > View Certificates > Your Certificates > Import) \
         or Chromium (Settings > Privacy and security > Security > Manage certificates > Import), and trust {} as a CA.",
        sh_quote(&format!("{d}/people/zvh-fg/person.p12")),
        sh_quote(&format!("{d}/ca/ca.pem"))
    );
    let _ = writeln!(
        out,
        "\nFor the README's walkthrough, in any shell: . {}",
        sh_quote(&format!("{d}/demo.env"))
    );
    let _ = writeln!(out, "\nStop with Ctrl-C; run `demo` again to reuse {d}.");
    out
}

/// Quotes for a POSIX shell when needed.
fn sh_quote(s: &str) -> String {
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-:=@+,".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn mkdir(p: &Path) -> Result<(), DemoError> {
    std::fs::create_dir_all(p).map_err(|source| DemoError::Write {
        path: p.to_owned(),
        source,
    })
}

fn read(p: &Path) -> Result<String, DemoError> {
    std::fs::read_to_string(p).map_err(|source| DemoError::Read {
        path: p.to_owned(),
        source,
    })
}

/// Writes a file; private keys are readable by the owner only.
fn write(p: &Path, content: &str, private: bool) -> Result<(), DemoError> {
    let err = |source| DemoError::Write {
        path: p.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = options.open(p).map_err(err)?;
    f.write_all(content.as_bytes()).map_err(err)
}
