//! The command line's subcommands: each parses nothing itself (clap does) and calls the library. Errors become a
//! [`Failure`] with the exit code `main` returns: 1 for a runtime failure, 2 for a usage error. The outermost
//! layer: may use everything.
pub(crate) mod audit;
pub(crate) mod covenant;
pub mod demo;
pub(crate) mod operator;
pub(crate) mod org;
pub(crate) mod person;
pub(crate) mod seed;
pub(crate) mod token;
pub(crate) mod witness;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Config;
use crate::store::Store;
use crate::types::clock::{Clock, SystemClock};

#[derive(Parser)]
#[command(
    name = "doelpoort",
    version,
    about = "Secure information-exchange gateway for a Zorg- en Veiligheidshuis"
)]
pub struct Cli {
    /// Whom the records of an administrative command name beside your operating-system user (your own name when
    /// the account is shared); required when your uid has no user name.
    #[arg(long, global = true, value_name = "NAME")]
    pub actor: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create (or reuse) a demo directory with CA, certificates, keys and database, then serve.
    Demo(demo::DemoArgs),
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
    /// People who use the console, with their personal certificates.
    #[command(subcommand)]
    Person(person::PersonCommand),
    /// The disclosure log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The covenant files: check, explain a decision, compare two, replay history under one, evaluate.
    #[command(subcommand)]
    Covenant(CovenantCommand),
    /// Purge the content of closed cases whose retention period has passed (`serve` also does this periodically).
    Purge(ConfigArg),
    /// Content encryption at rest.
    #[command(subcommand)]
    Content(ContentCommand),
    /// A partner's witness of the log (run it from cron): cosign the gateway's newest checkpoint if it extends the
    /// one accepted before; refuse loudly (exit 1) if it does not.
    Witness(Box<witness::WitnessArgs>),
    /// Development helper: print a token signed with a demo organisation's key, bound to its demo certificate.
    Token(token::TokenArgs),
}

#[derive(Args)]
pub struct ConfigArg {
    #[arg(long)]
    pub config: PathBuf,
}

#[derive(Subcommand)]
pub enum OrgCommand {
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
        /// CBS codes of the municipalities it is onboarded for, comma separated (GM0268,GM0277): its
        /// professionals may read their factsheets.
        #[arg(long, value_delimiter = ',')]
        municipalities: Vec<String>,
    },
    /// List organisations.
    List(ConfigArg),
    /// Show one organisation: its token keys (current and retired) and its certificates with their revocations.
    Show {
        #[command(flatten)]
        c: ConfigArg,
        #[arg(long)]
        oin: String,
    },
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
pub struct Lifecycle {
    #[command(flatten)]
    pub c: ConfigArg,
    #[arg(long)]
    pub oin: String,
    /// Why (optional).
    #[arg(long)]
    pub reason: Option<String>,
}

#[derive(Subcommand)]
pub enum ContentCommand {
    /// Re-wrap every case's data key under the current master key (after a rotation: the new key in
    /// `content.master_key_file`, the old one in `content.retired_master_key_files`). Content is not touched.
    Rewrap(ConfigArg),
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Verify the whole chain and every checkpoint signature; exit 1 naming the first bad record.
    Verify {
        #[command(flatten)]
        config: ConfigArg,
        /// A checkpoint a partner held (its signed note, as `GET /v1/audit/checkpoint` served it, or the state
        /// file of its `doelpoort witness`); the log must extend each one given.
        #[arg(long = "anchor", value_name = "CHECKPOINT_FILE")]
        anchors: Vec<PathBuf>,
    },
    /// Export records (oldest first) to stdout or a file; the export itself is recorded in the log first.
    Export(Box<ExportArgs>),
}

#[derive(Subcommand)]
pub enum CovenantCommand {
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
    /// Show what changes between the covenant in OLD and the one in NEW: version, roles, meeting types,
    /// categories and rules.
    Diff { old: PathBuf, new: PathBuf },
    /// Replay the decisions recorded in [--from, --to) under the covenant in --dir and list, by article and rule,
    /// the flows it would refuse and the refusals it would allow (counts only, no personal data).
    DryRun(DryRunArgs),
    /// The covenant's evaluation over [--from, --to): decisions per article, rules never used, recurring refusals,
    /// partners that have not signed the version in force.
    Evaluate(EvaluateArgs),
}

#[derive(Args)]
pub struct DryRunArgs {
    #[command(flatten)]
    pub c: ConfigArg,
    /// The folder of the proposed covenant.
    #[arg(long)]
    pub dir: PathBuf,
    #[command(flatten)]
    pub window: WindowArgs,
}

#[derive(Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub c: ConfigArg,
    #[command(flatten)]
    pub window: WindowArgs,
}

#[derive(Args)]
pub struct WindowArgs {
    /// First day, YYYY-MM-DD (default: the first record).
    #[arg(long)]
    pub from: Option<String>,
    /// The day after the last, YYYY-MM-DD (default: after the last record).
    #[arg(long)]
    pub to: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub c: ConfigArg,
    /// Records about this person (matched through the pseudonym; needs log.pseudonym_key_file).
    #[arg(long)]
    pub bsn: Option<String>,
    #[arg(long)]
    pub case_id: Option<String>,
    /// OIN of an organisation that was source or recipient.
    #[arg(long)]
    pub organisation: Option<String>,
    /// OIN of the organisation the data came from.
    #[arg(long)]
    pub source: Option<String>,
    /// OIN of the organisation the data went to.
    #[arg(long)]
    pub recipient: Option<String>,
    /// Comma-separated kinds: disclosure, refusal, lookup, admin.
    #[arg(long)]
    pub kind: Option<String>,
    /// Comma-separated actions of admin records, e.g. organisation.add.
    #[arg(long)]
    pub action: Option<String>,
    /// A date (YYYY-MM-DD, UTC) or RFC 3339 date-time; records at or after.
    #[arg(long)]
    pub from: Option<String>,
    /// A date (YYYY-MM-DD, UTC, inclusive) or RFC 3339 date-time (exclusive); records up to it.
    #[arg(long)]
    pub to: Option<String>,
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Write here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Csv,
    /// Logboek Dataverwerkingen entries, one JSON object per line (docs/ldv.schema.json).
    Ldv,
}

#[derive(Args)]
pub struct IssueArgs {
    #[command(flatten)]
    pub c: ConfigArg,
    #[arg(long)]
    pub oin: String,
    #[arg(long)]
    pub out: PathBuf,
    /// The partner's certificate request (PEM); its subject must name the OIN in its serialNumber.
    #[arg(long)]
    pub csr: Option<PathBuf>,
    /// Subject name; defaults to the organisation's name.
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, default_value_t = 365)]
    pub days: i64,
}

#[derive(Subcommand)]
pub enum CertCommand {
    /// Issue a client certificate for an onboarded OIN into DIR: from the partner's own request with --csr
    /// (DIR/cert.pem; the key never leaves the partner), or with a key the gateway makes (DIR/cert.pem and
    /// DIR/key.pem; development only).
    Issue(IssueArgs),
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
pub(crate) use say;

/// A failure with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            code: 1,
            message: e.to_string(),
        }
    }
}

pub(crate) fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: 2,
        message: message.into(),
    }
}

/// Runs one subcommand.
///
/// # Errors
/// The subcommand failed; the [`Failure`] says with which exit code.
pub async fn run(cli: Cli) -> Result<(), Failure> {
    let who = operator::Operator { named: cli.actor };
    match cli.command {
        Command::Demo(args) => demo::run(args).await,
        Command::Serve(c) => serve(&c).await,
        Command::Migrate(c) => {
            open(&c).await?.1.close().await;
            say!("migrations applied");
            Ok(())
        }
        Command::Purge(c) => purge(&c, &who).await,
        Command::Content(ContentCommand::Rewrap(c)) => rewrap(&c, &who).await,
        Command::Org(o) => org::org(o, &who).await,
        Command::Cert(c) => org::cert(c, &who).await,
        Command::Person(p) => person::person(p, &who).await,
        Command::Audit(AuditCommand::Verify { config, anchors }) => audit::verify(&config, &anchors).await,
        Command::Audit(AuditCommand::Export(a)) => audit::export(*a, &who).await,
        Command::Covenant(c) => covenant::covenant(c).await,
        Command::Witness(args) => witness::run(&args).await,
        Command::Token(args) => {
            say!("{}", token::demo_token(&args)?);
            Ok(())
        }
    }
}

async fn serve(c: &ConfigArg) -> Result<(), Failure> {
    let config = Config::load(&c.config)?;
    let signal = crate::server::shutdown_signal()?;
    let server = crate::server::start(config, Arc::new(SystemClock)).await?;
    crate::server::run_until(server, signal).await;
    Ok(())
}

/// The configuration and its database, migrated.
pub(crate) async fn open(c: &ConfigArg) -> Result<(Config, Store), Failure> {
    let config = Config::load(&c.config)?;
    let store = crate::server::open_store(&config).await?;
    Ok((config, store))
}

async fn purge(c: &ConfigArg, who: &operator::Operator) -> Result<(), Failure> {
    let actor = who.actor()?;
    let (config, store) = open(c).await?;
    let covenant = crate::covenant::Covenant::load(&config.covenant_dir)?;
    let purged = crate::cases::retention::purge_due(&store, &covenant, SystemClock.now(), &actor).await;
    store.close().await;
    say!("purged {} case(s) whose retention period has passed", purged?.len());
    Ok(())
}

async fn rewrap(c: &ConfigArg, who: &operator::Operator) -> Result<(), Failure> {
    let actor = who.actor()?;
    let (config, store) = open(c).await?;
    let keys = config.content.keyring()?;
    let rewrapped = crate::cases::retention::rewrap_all(&store, &keys, SystemClock.now(), &actor).await;
    store.close().await;
    say!(
        "re-wrapped {} data key(s) under master key {}",
        rewrapped?,
        keys.current().id()
    );
    Ok(())
}

/// Reads a text file for a subcommand.
pub(crate) fn read_file(path: &std::path::Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure::from(format!("cannot read {}: {e}", path.display())))
}

/// Writes a private key (owner-readable only).
pub(crate) fn write_private(path: &std::path::Path, content: impl AsRef<[u8]>) -> Result<(), Failure> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(content.as_ref())?;
    Ok(())
}
