//! `doelpoort person …`: people of an organisation and their personal certificates, under the same rules as
//! `/v1/admin/people`.
use clap::{Args, Subcommand};
use std::path::PathBuf;

use super::operator::Operator;
use super::{say, usage, ConfigArg, Failure};
use crate::crypto::pki::{pkcs12, CertificateAuthority};
use crate::edge::tls::TlsMaterial;
use crate::orgs::people::{self, Credential, NewPerson, PersonStep, PersonView};
use crate::types::clock::{Clock, SystemClock};
use crate::types::UserRole;

#[derive(Subcommand)]
pub enum PersonCommand {
    /// Register a person with a personal certificate: with --out the gateway's CA makes one (DIR/cert.pem,
    /// DIR/key.pem and DIR/person.p12 for browsers); with --csr FILE --out DIR it signs the person's own request
    /// (DIR/cert.pem; the key never leaves them); with --cert FILE it registers a certificate from the
    /// organisation's own CA.
    Add(AddArgs),
    /// List people (of one organisation with --oin).
    List {
        #[command(flatten)]
        c: ConfigArg,
        #[arg(long)]
        oin: Option<String>,
    },
    /// Suspend a person: refused at once, until reinstated.
    Suspend(Which),
    /// Reinstate a suspended person.
    Reinstate(Which),
    /// Remove a person for good (the records that name them keep their meaning).
    Remove(Which),
}

#[derive(Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub c: ConfigArg,
    #[arg(long)]
    pub oin: String,
    /// The person's id at the organisation (the certificate's UID).
    #[arg(long)]
    pub id: String,
    #[arg(long)]
    pub name: String,
    /// Comma-separated: professional, procesregisseur, privacy_officer, admin.
    #[arg(long, value_delimiter = ',')]
    pub roles: Vec<String>,
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Password of the PKCS#12 file written with --out.
    #[arg(long, default_value = "doelpoort")]
    pub p12_password: String,
    #[arg(long, conflicts_with = "cert")]
    pub csr: Option<PathBuf>,
    #[arg(long, conflicts_with = "out")]
    pub cert: Option<PathBuf>,
}

#[derive(Args)]
pub struct Which {
    #[command(flatten)]
    pub c: ConfigArg,
    #[arg(long)]
    pub oin: String,
    #[arg(long)]
    pub id: String,
}

pub async fn person(command: PersonCommand, who: &Operator) -> Result<(), Failure> {
    match command {
        PersonCommand::Add(args) => add(args, who).await,
        PersonCommand::List { c, oin } => {
            let (_, store) = super::open(&c).await?;
            let list = people::list(&store, oin.as_deref()).await;
            store.close().await;
            for p in list? {
                print(&p);
            }
            Ok(())
        }
        PersonCommand::Suspend(w) => step(w, PersonStep::Suspend, who).await,
        PersonCommand::Reinstate(w) => step(w, PersonStep::Reinstate, who).await,
        PersonCommand::Remove(w) => step(w, PersonStep::Remove, who).await,
    }
}

fn print(p: &PersonView) {
    let roles: Vec<&str> = p.roles.iter().map(|r| r.as_str()).collect();
    say!("{}\t{}\t{}\t{}\t{}", p.oin, p.id, p.status, roles.join(","), p.name);
    for c in &p.certificates {
        say!(
            "certificate\t{}\t{}\t{}\tuntil {}",
            c.serial,
            c.thumbprint,
            c.source,
            c.not_after
        );
    }
}

async fn step(w: Which, step: PersonStep, who: &Operator) -> Result<(), Failure> {
    let actor = who.actor()?;
    let (_, store) = super::open(&w.c).await?;
    let view = people::transition(&store, (SystemClock.now(), &actor), &w.oin, &w.id, step).await;
    store.close().await;
    print(&view?);
    Ok(())
}

async fn add(args: AddArgs, who: &Operator) -> Result<(), Failure> {
    let actor = who.actor()?;
    let roles = args
        .roles
        .iter()
        .map(|r| r.parse::<UserRole>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| usage(e.to_string()))?;
    let (request, certificate) = (
        args.csr.as_deref().map(super::read_file).transpose()?,
        args.cert.as_deref().map(super::read_file).transpose()?,
    );
    let credential = match (&request, &certificate, &args.out) {
        (Some(csr), None, Some(_)) => Credential::Csr(csr),
        (None, Some(cert), None) => Credential::Cert(cert),
        (None, None, Some(_)) => Credential::Issue,
        _ => return Err(usage("give --out DIR, --csr FILE --out DIR, or --cert FILE")),
    };
    let (config, store) = super::open(&args.c).await?;
    let material = TlsMaterial::load(&config.tls)?;
    let new = NewPerson {
        oin: args.oin.clone(),
        id: args.id.clone(),
        name: args.name.clone(),
        roles,
    };
    let ca = material.own_ca();
    let done = people::add(
        &store,
        ca,
        (SystemClock.now(), &actor, &config.host_oin),
        &new,
        credential,
    )
    .await;
    store.close().await;
    let done = done?;
    if let Some(out) = &args.out {
        write(out, &done, ca, &args.p12_password)?;
    }
    print(&done.person);
    Ok(())
}

/// Writes what the CA made into `out`.
fn write(
    out: &std::path::Path,
    done: &people::Registered,
    ca: Option<&CertificateAuthority>,
    password: &str,
) -> Result<(), Failure> {
    std::fs::create_dir_all(out)?;
    if let (Some(issued), Some(ca)) = (&done.issued, ca) {
        super::write_private(&out.join("key.pem"), &issued.pem.key_pem)?;
        std::fs::write(out.join("cert.pem"), &issued.pem.cert_pem)?;
        super::write_private(&out.join("person.p12"), pkcs12(&issued.pem, ca.cert_pem(), password)?)?;
    }
    if let Some(signed) = &done.signed {
        std::fs::write(out.join("cert.pem"), &signed.cert_pem)?;
    }
    Ok(())
}
