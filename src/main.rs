//! The `doelpoort` command line: parses, calls the library, maps errors to exit codes
//! (0 success, 1 runtime failure, 2 usage error) and prints errors to stderr as one sentence.
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use doelpoort::clock::{Clock, SystemClock};
use doelpoort::config::Config;
use doelpoort::edge::tls::TlsMaterial;
use doelpoort::onboarding::{self, Actor, NewOrg, Signature, Transition};
use doelpoort::pki::{cert_facts, TokenKeyPair};
use doelpoort::token::{self, TokenRequest, MAX_LIFETIME_SECS};

#[derive(Parser)]
#[command(
    name = "doelpoort",
    version,
    about = "Secure information-exchange gateway for a Zorg- en Veiligheidshuis"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create (or reuse) a demo directory with CA, certificates, keys and database, then serve.
    Demo {
        #[arg(long, default_value = "demo")]
        dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// Use this database instead of DIR/doelpoort.db (for example PostgreSQL); a later `serve --config
        /// DIR/doelpoort.toml` needs DOELPOORT_DATABASE_URL set to the same.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Start the gateway with a production configuration.
    Serve(ConfigArg),
    /// Apply database migrations.
    Migrate(ConfigArg),
    /// Onboard and manage organisations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Client certificates from the gateway's own CA.
    #[command(subcommand)]
    Cert(CertCommand),
    /// The disclosure log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The covenant files: check them, or explain one decision.
    #[command(subcommand)]
    Covenant(CovenantCommand),
    /// Purge the content of closed cases whose retention period has passed (`serve` also does this periodically).
    Purge(ConfigArg),
    /// Content encryption at rest.
    #[command(subcommand)]
    Content(ContentCommand),
    /// Development helper: print a token signed with a demo organisation's key, bound to its demo certificate.
    Token {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        org: String,
        #[arg(long)]
        sub: String,
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        #[arg(long, default_value_t = 3600)]
        ttl: i64,
    },
}

#[derive(Args)]
struct ConfigArg {
    #[arg(long)]
    config: PathBuf,
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Onboard an organisation.
    Add {
        #[command(flatten)]
        c: ConfigArg,
        #[arg(long)]
        oin: String,
        #[arg(long)]
        name: String,
        /// ketenpartner, convenantpartner or incidenteel
        #[arg(long)]
        kind: String,
        /// Covenant roles, comma separated.
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// File with the organisation's public token keys (JWKS).
        #[arg(long)]
        jwks: PathBuf,
    },
    /// List organisations.
    List(ConfigArg),
    /// Record a covenant signature.
    Sign {
        #[command(flatten)]
        c: ConfigArg,
        #[arg(long)]
        oin: String,
        #[arg(long = "covenant-version")]
        version: String,
        /// YYYY-MM-DD
        #[arg(long)]
        signed_on: String,
        #[arg(long)]
        signatory: String,
    },
    /// Replace the organisation's token keys.
    RotateKeys {
        #[command(flatten)]
        c: ConfigArg,
        #[arg(long)]
        oin: String,
        #[arg(long)]
        jwks: PathBuf,
    },
    /// Suspend an organisation.
    Suspend(Lifecycle),
    /// Reinstate a suspended organisation.
    Reinstate(Lifecycle),
    /// Offboard an organisation (revokes the certificates the gateway issued to it).
    Offboard(Lifecycle),
}

#[derive(Args)]
struct Lifecycle {
    #[command(flatten)]
    c: ConfigArg,
    #[arg(long)]
    oin: String,
    #[arg(long)]
    reason: String,
}

#[derive(Subcommand)]
enum ContentCommand {
    /// Re-wrap every case's data key under the current master key (after a rotation: the new key in
    /// `content.master_key_file`, the old one in `content.retired_master_key_files`). Content is not touched.
    Rewrap(ConfigArg),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the whole chain and every checkpoint signature; exit 1 naming the first bad record.
    Verify(ConfigArg),
    /// Export records (oldest first) to stdout or a file; the export itself is recorded in the log first.
    Export(ExportArgs),
}

#[derive(Subcommand)]
enum CovenantCommand {
    /// Validate the covenant files (default `policies/`); every problem is named with its file and line.
    Check {
        #[arg(default_value = "policies")]
        dir: PathBuf,
    },
    /// Explain whether role FROM may share CATEGORY with role TO in a meeting of type MEETING_TYPE for PURPOSE:
    /// the rules and articles that decide it (casbin's answer and the gateway's compiled index, side by side).
    Explain {
        #[arg(long, default_value = "policies")]
        dir: PathBuf,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        meeting_type: String,
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        category: String,
    },
}

#[derive(Args)]
struct ExportArgs {
    #[command(flatten)]
    c: ConfigArg,
    /// Records about this person (matched through the pseudonym; needs log.pseudonym_key_file).
    #[arg(long)]
    bsn: Option<String>,
    #[arg(long)]
    case_id: Option<String>,
    /// OIN of an organisation that was source or recipient.
    #[arg(long)]
    organisation: Option<String>,
    /// Comma-separated kinds: disclosure, refusal, lookup, admin.
    #[arg(long)]
    kind: Option<String>,
    /// RFC 3339; records at or after.
    #[arg(long)]
    from: Option<String>,
    /// RFC 3339; records before.
    #[arg(long)]
    to: Option<String>,
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// Write here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    Jsonl,
    Csv,
}

#[derive(Subcommand)]
enum CertCommand {
    /// Issue a client certificate for an OIN into DIR (cert.pem, key.pem).
    Issue {
        #[command(flatten)]
        c: ConfigArg,
        #[arg(long)]
        oin: String,
        #[arg(long)]
        out: PathBuf,
        /// Subject name; defaults to the organisation's name.
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value_t = 365)]
        days: i64,
    },
    /// Revoke a certificate by serial number (hex); running gateways pick it up without a restart.
    Revoke {
        #[command(flatten)]
        c: ConfigArg,
        #[arg(long)]
        serial: String,
        #[arg(long, default_value = "revoked by an administrator")]
        reason: String,
    },
}

/// Prints a line to stdout; a closed stdout (say, `doelpoort demo | head`) must not bring the gateway down.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// A failure with the exit code it maps to.
struct Failure {
    code: u8,
    message: String,
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            code: 1,
            message: e.to_string(),
        }
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: 2,
        message: message.into(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DOELPOORT_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("doelpoort: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("doelpoort: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Demo {
            dir,
            listen,
            database_url,
        } => demo(&dir, listen, database_url.as_deref()).await,
        Command::Serve(c) => {
            let config = Config::load(&c.config)?;
            let signal = doelpoort::server::shutdown_signal()?;
            let server = doelpoort::server::start(config, Arc::new(SystemClock)).await?;
            doelpoort::server::run_until(server, signal).await;
            Ok(())
        }
        Command::Migrate(c) => {
            let config = Config::load(&c.config)?;
            doelpoort::server::open_store(&config).await?.close().await;
            say!("migrations applied");
            Ok(())
        }
        Command::Purge(c) => {
            let (config, store) = open(&c).await?;
            let covenant = doelpoort::covenant::Covenant::load(&config.covenant_dir)?;
            let purged =
                doelpoort::retention::purge_due(&store, &covenant, SystemClock.now(), &Actor::command_line().sub).await;
            store.close().await;
            say!("purged {} case(s) whose retention period has passed", purged?.len());
            Ok(())
        }
        Command::Content(ContentCommand::Rewrap(c)) => {
            let (config, store) = open(&c).await?;
            let keys = doelpoort::crypto::envelope::Keyring::from_config(&config.content)?;
            let rewrapped =
                doelpoort::retention::rewrap_all(&store, &keys, SystemClock.now(), &Actor::command_line().sub).await;
            store.close().await;
            say!(
                "re-wrapped {} data key(s) under master key {}",
                rewrapped?,
                keys.current().id()
            );
            Ok(())
        }
        Command::Org(o) => org(o).await,
        Command::Cert(c) => cert(c).await,
        Command::Audit(AuditCommand::Verify(c)) => audit_verify(&c).await,
        Command::Audit(AuditCommand::Export(a)) => audit_export(a).await,
        Command::Covenant(CovenantCommand::Check { dir }) => {
            let c = doelpoort::covenant::Covenant::load(&dir)?;
            say!(
                "covenant {} is consistent: {} roles, {} meeting types, {} categories, {} rules",
                c.version,
                c.roles.len(),
                c.meeting_types.len(),
                c.categories.len(),
                c.rules.lines().len()
            );
            Ok(())
        }
        Command::Covenant(CovenantCommand::Explain {
            dir,
            from,
            to,
            meeting_type,
            purpose,
            category,
        }) => {
            let question = doelpoort::covenant::explain::Question {
                from,
                to,
                meeting_type,
                purpose,
                category,
            };
            let text = doelpoort::covenant::explain::explain(&dir, &question)
                .await
                .map_err(|e| match e {
                    doelpoort::covenant::explain::ExplainError::Unknown(m) => usage(m),
                    other => Failure::from(other),
                })?;
            say!("{text}");
            Ok(())
        }
        Command::Token {
            dir,
            org,
            sub,
            roles,
            ttl,
        } => {
            say!("{}", demo_token(&dir, &org, &sub, &roles, ttl)?);
            Ok(())
        }
    }
}

async fn demo(dir: &Path, listen: SocketAddr, database_url: Option<&str>) -> Result<(), Failure> {
    let config = doelpoort::demo::prepare(dir, listen, database_url).await?;
    let signal = doelpoort::server::shutdown_signal()?;
    let server = doelpoort::server::start(config, Arc::new(SystemClock)).await?;
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("doelpoort"));
    let dir = dir.canonicalize()?;
    say!(
        "{}",
        doelpoort::demo::instructions(&dir, server.addr, server.metrics_addr, &exe)
    );
    doelpoort::server::run_until(server, signal).await;
    Ok(())
}

async fn open(c: &ConfigArg) -> Result<(Config, doelpoort::store::Store), Failure> {
    let config = Config::load(&c.config)?;
    let store = doelpoort::server::open_store(&config).await?;
    Ok((config, store))
}

async fn org(command: OrgCommand) -> Result<(), Failure> {
    let actor = Actor::command_line();
    let now = SystemClock.now();
    let (c, view) = match command {
        OrgCommand::Add {
            c,
            oin,
            name,
            kind,
            roles,
            jwks,
        } => {
            let (config, store) = open(&c).await?;
            let covenant = doelpoort::covenant::Covenant::load(&config.covenant_dir)?;
            let jwks: serde_json::Value = serde_json::from_str(&read_file(&jwks)?)
                .map_err(|_| usage(format!("{} is not a JSON document", jwks.display())))?;
            let new = NewOrg {
                oin,
                name,
                kind,
                covenant_roles: roles,
                jwks,
            };
            let r = onboarding::add(&store, &covenant, now, &actor, &new).await;
            (store, r)
        }
        OrgCommand::List(c) => {
            let (_, store) = open(&c).await?;
            for o in onboarding::list(&store).await? {
                let signed: Vec<&str> = o.signatures.iter().map(|s| s.version.as_str()).collect();
                say!(
                    "{}\t{}\t{}\t{}\t{}\tsigned: {}",
                    o.oin,
                    o.status,
                    o.kind,
                    o.covenant_roles.join(","),
                    o.name,
                    signed.join(",")
                );
            }
            store.close().await;
            return Ok(());
        }
        OrgCommand::Sign {
            c,
            oin,
            version,
            signed_on,
            signatory,
        } => {
            let (_, store) = open(&c).await?;
            let sig = Signature {
                version,
                signed_on,
                signatory,
            };
            let r = onboarding::sign(&store, now, &actor, &oin, &sig).await;
            (store, r)
        }
        OrgCommand::RotateKeys { c, oin, jwks } => {
            let (_, store) = open(&c).await?;
            let jwks: serde_json::Value = serde_json::from_str(&read_file(&jwks)?)
                .map_err(|_| usage(format!("{} is not a JSON document", jwks.display())))?;
            let r = onboarding::rotate_keys(&store, now, &actor, &oin, &jwks).await;
            (store, r)
        }
        OrgCommand::Suspend(l) => lifecycle(l, Transition::Suspend, &actor, now).await?,
        OrgCommand::Reinstate(l) => lifecycle(l, Transition::Reinstate, &actor, now).await?,
        OrgCommand::Offboard(l) => lifecycle(l, Transition::Offboard, &actor, now).await?,
    };
    c.close().await;
    let view = view?;
    say!("{}\t{}\t{}", view.oin, view.status, view.name);
    Ok(())
}

async fn lifecycle(
    l: Lifecycle,
    step: Transition,
    actor: &Actor,
    now: time::OffsetDateTime,
) -> Result<
    (
        doelpoort::store::Store,
        Result<onboarding::OrgView, onboarding::OnboardingError>,
    ),
    Failure,
> {
    let (config, store) = open(&l.c).await?;
    let r = onboarding::transition(&store, now, actor, &config.host_oin, &l.oin, step, &l.reason).await;
    Ok((store, r))
}

async fn cert(command: CertCommand) -> Result<(), Failure> {
    let actor = Actor::command_line();
    let now = SystemClock.now();
    match command {
        CertCommand::Issue {
            c,
            oin,
            out,
            name,
            days,
        } => {
            let (config, store) = open(&c).await?;
            let material = TlsMaterial::load(&config.tls)?;
            let name = match name {
                Some(n) => n,
                None => store
                    .organisation(&oin)
                    .await?
                    .map_or_else(|| format!("OIN {oin}"), |o| o.name),
            };
            let issued = onboarding::issue_certificate(&store, material.own_ca(), now, &actor, &oin, &name, days).await;
            store.close().await;
            let issued = issued?;
            std::fs::create_dir_all(&out)?;
            write_private(&out.join("key.pem"), &issued.pem.key_pem)?;
            std::fs::write(out.join("cert.pem"), &issued.pem.cert_pem)?;
            say!(
                "issued serial {} (x5t#S256 {}) into {}",
                issued.serial,
                issued.thumbprint,
                out.display()
            );
            Ok(())
        }
        CertCommand::Revoke { c, serial, reason } => {
            let (_, store) = open(&c).await?;
            let r = onboarding::revoke_certificate(&store, now, &actor, &serial, &reason).await;
            store.close().await;
            if r? {
                say!("revoked; running gateways refuse it within a second");
            } else {
                say!("already revoked");
            }
            Ok(())
        }
    }
}

async fn audit_verify(c: &ConfigArg) -> Result<(), Failure> {
    let (config, store) = open(c).await?;
    let trusted = match &config.log.checkpoint_key_file {
        Some(path) => {
            let mut keys = vec![doelpoort::crypto::CheckpointSigner::from_file(path)?.public_key()];
            keys.extend(config.log.retired_checkpoint_keys.iter().cloned());
            Some(keys)
        }
        None => {
            eprintln!("note: no log.checkpoint_key_file is configured, so checkpoint keys are not compared with it");
            None
        }
    };
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} records ({per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let result = doelpoort::log::verify::verify(&store, trusted.as_deref(), |done, total| {
        bar.set_length(u64::try_from(total).unwrap_or(0));
        bar.set_position(u64::try_from(done).unwrap_or(0));
    })
    .await;
    bar.finish_and_clear();
    store.close().await;
    let report = result?;
    say!(
        "the disclosure log is intact: {} records, {} checkpoints, head {}",
        report.records,
        report.checkpoints,
        report.head_hash
    );
    Ok(())
}

async fn audit_export(a: ExportArgs) -> Result<(), Failure> {
    let (config, store) = open(&a.c).await?;
    let secret = match (&config.log.pseudonym_key_file, &a.bsn) {
        (Some(path), _) => doelpoort::crypto::read_secret(path)?,
        (None, Some(_)) => return Err(usage("--bsn needs log.pseudonym_key_file in the configuration")),
        // Without a BSN filter the key only signs cursors, which an export does not use.
        (None, None) => vec![0u8; 32],
    };
    let pseudonyms = doelpoort::crypto::Pseudonymiser::new(&secret);
    let filters = doelpoort::audit::Filters {
        bsn: a.bsn,
        case_id: a.case_id,
        organisation: a.organisation,
        kind: a.kind,
        from: a.from,
        to: a.to,
        ..Default::default()
    };
    let query = filters.parse(&pseudonyms, None).map_err(|e| usage(e.to_string()))?;
    let actor = Actor::command_line();
    let entry = doelpoort::audit::read_entry("audit.export", None, &actor.sub, &query.filter, None);
    let now = doelpoort::clock::rfc3339(SystemClock.now());
    store.append_log(vec![entry], &now).await?;
    let format = match a.format {
        ExportFormat::Jsonl => doelpoort::audit::Format::Jsonl,
        ExportFormat::Csv => doelpoort::audit::Format::Csv,
    };
    let count = match &a.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| Failure::from(format!("cannot create {}: {e}", path.display())))?;
            doelpoort::audit::export(&store, &query.filter, format, file).await
        }
        None => doelpoort::audit::export(&store, &query.filter, format, std::io::stdout().lock()).await,
    };
    store.close().await;
    let count = count?;
    if a.out.is_some() {
        say!("exported {count} records");
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure::from(format!("cannot read {}: {e}", path.display())))
}

fn write_private(path: &Path, content: &str) -> Result<(), Failure> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(content.as_bytes())?;
    Ok(())
}

/// A token for a demo organisation: its key, OIN and certificate come from DIR/orgs/SLUG.
fn demo_token(dir: &Path, org: &str, sub: &str, roles: &[String], ttl: i64) -> Result<String, Failure> {
    if !(1..=MAX_LIFETIME_SECS).contains(&ttl) {
        return Err(usage(format!(
            "--ttl must be between 1 and {MAX_LIFETIME_SECS} seconds"
        )));
    }
    if org.is_empty() || !org.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(usage("--org must be the name of a folder under DIR/orgs"));
    }
    let org_dir = dir.join("orgs").join(org);
    let read = |name: &str| {
        std::fs::read_to_string(org_dir.join(name))
            .map_err(|e| Failure::from(format!("cannot read {}: {e}", org_dir.join(name).display())))
    };
    let key = TokenKeyPair::from_pem(&read("token-key.pem")?)?;
    let oin = read("oin")?.trim().to_owned();
    use rustls_pki_types::pem::PemObject;
    let cert = rustls_pki_types::CertificateDer::from_pem_slice(read("cert.pem")?.as_bytes())
        .map_err(|_| Failure::from("the organisation's cert.pem holds no certificate"))?;
    let thumbprint = cert_facts(&cert)?.thumbprint;
    let audience = Config::load(&dir.join("doelpoort.toml")).map_or_else(|_| "doelpoort".to_owned(), |c| c.audience);
    let request = TokenRequest {
        issuer: &oin,
        audience: &audience,
        sub,
        roles,
        thumbprint: &thumbprint,
        iat: SystemClock.now().unix_timestamp(),
        ttl_secs: ttl,
    };
    Ok(token::sign(&key, &request)?)
}
