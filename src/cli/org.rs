//! `doelpoort org …` and `doelpoort cert …`: onboarding and certificates from the command line, under the same
//! rules as the admin API.
use super::operator::Operator;
use super::{say, usage, CertCommand, Failure, IssueArgs, Lifecycle, OrgCommand};
use crate::edge::tls::TlsMaterial;
use crate::log::actor::AnyActor;
use crate::orgs::onboarding::{self, NewOrg, Signature, Transition};
use crate::types::clock::{Clock, SystemClock};

pub async fn org(command: OrgCommand, who: &Operator) -> Result<(), Failure> {
    match command {
        OrgCommand::Add {
            c,
            oin,
            name,
            kind,
            roles,
            jwks,
            municipalities,
        } => {
            let (config, store) = super::open(&c).await?;
            let covenant = crate::covenant::Covenant::load(&config.covenant_dir)?;
            let new = NewOrg {
                oin,
                name,
                kind,
                covenant_roles: roles,
                jwks: read_jwks(&jwks)?,
                municipalities,
            };
            let view = onboarding::add(
                &store,
                &covenant,
                (&config.host_oin, SystemClock.now()),
                &who.actor()?,
                &new,
            )
            .await;
            done(store, view).await
        }
        OrgCommand::List(c) => list(&c).await,
        OrgCommand::Show { c, oin } => show(&c, &oin).await,
        OrgCommand::Sign {
            c,
            oin,
            version,
            signed_on,
            signatory,
        } => {
            let (_, store) = super::open(&c).await?;
            let sig = Signature {
                version,
                signed_on,
                signatory,
            };
            let view = onboarding::sign(&store, SystemClock.now(), &who.actor()?, &oin, &sig).await;
            done(store, view).await
        }
        OrgCommand::RotateKeys { c, oin, jwks } => {
            let (_, store) = super::open(&c).await?;
            let jwks = read_jwks(&jwks)?;
            let view = onboarding::rotate_keys(&store, SystemClock.now(), &who.actor()?, &oin, &jwks).await;
            done(store, view).await
        }
        OrgCommand::Suspend(l) => lifecycle(l, Transition::Suspend, who).await,
        OrgCommand::Reinstate(l) => lifecycle(l, Transition::Reinstate, who).await,
        OrgCommand::Offboard(l) => lifecycle(l, Transition::Offboard, who).await,
    }
}

fn read_jwks(path: &std::path::Path) -> Result<serde_json::Value, Failure> {
    serde_json::from_str(&super::read_file(path)?)
        .map_err(|_| usage(format!("{} is not a JSON document", path.display())))
}

/// Closes the database, then prints the organisation as it now stands or fails.
async fn done(
    store: crate::store::Store,
    view: Result<onboarding::OrgView, onboarding::OnboardingError>,
) -> Result<(), Failure> {
    store.close().await;
    let view = view?;
    say!("{}\t{}\t{}", view.oin, view.status, view.name);
    Ok(())
}

async fn list(c: &super::ConfigArg) -> Result<(), Failure> {
    let (_, store) = super::open(c).await?;
    let orgs = onboarding::list(&store).await;
    store.close().await;
    for o in orgs? {
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
    Ok(())
}

async fn show(c: &super::ConfigArg, oin: &str) -> Result<(), Failure> {
    let (_, store) = super::open(c).await?;
    let (org, held) = (
        onboarding::get(&store, oin).await,
        onboarding::credentials(&store, oin).await,
    );
    store.close().await;
    let (org, held) = (org?, held?);
    say!("{}\t{}\t{}\t{}", org.oin, org.status, org.kind, org.name);
    for k in held.keys {
        let retired = k
            .retired_at
            .map_or_else(|| "current".to_owned(), |t| format!("retired {t}"));
        say!(
            "key\t{}\t{}\t{}\tsince {}\t{retired}",
            k.kid,
            k.alg,
            k.thumbprint,
            k.since
        );
    }
    for c in held.certificates {
        let revoked = c
            .revoked_at
            .map_or_else(|| "valid".to_owned(), |t| format!("revoked {t}"));
        say!(
            "certificate\t{}\t{}\tissued {}\tuntil {}\t{revoked}",
            c.serial,
            c.thumbprint,
            c.issued_at,
            c.not_after
        );
    }
    Ok(())
}

async fn lifecycle(l: Lifecycle, step: Transition, who: &Operator) -> Result<(), Failure> {
    let actor = who.actor()?;
    let (config, store) = super::open(&l.c).await?;
    let now = SystemClock.now();
    let view = onboarding::transition(&store, now, &actor, &config.host_oin, &l.oin, step, l.reason.as_deref()).await;
    done(store, view).await
}

/// `cert issue`: signs the partner's request, or (development) makes a key and a certificate.
async fn issue(args: IssueArgs, actor: &AnyActor, now: time::OffsetDateTime) -> Result<(), Failure> {
    let (config, store) = super::open(&args.c).await?;
    let material = TlsMaterial::load(&config.tls)?;
    let ca = material.own_ca();
    let (oin, days) = (args.oin.as_str(), args.days);
    let name = match args.name {
        Some(n) => n,
        None => store
            .organisation(oin)
            .await?
            .map_or_else(|| format!("OIN {oin}"), |o| o.name),
    };
    let written = match &args.csr {
        Some(csr) => {
            let request = super::read_file(csr)?;
            let signed = onboarding::sign_request(&store, ca, now, actor, oin, &name, days, &request).await;
            store.close().await;
            let signed = signed?;
            std::fs::create_dir_all(&args.out)?;
            std::fs::write(args.out.join("cert.pem"), &signed.cert_pem)?;
            (signed.serial, signed.thumbprint)
        }
        None => {
            let issued = onboarding::issue_certificate(&store, ca, now, actor, oin, &name, days).await;
            store.close().await;
            let issued = issued?;
            std::fs::create_dir_all(&args.out)?;
            super::write_private(&args.out.join("key.pem"), &issued.pem.key_pem)?;
            std::fs::write(args.out.join("cert.pem"), &issued.pem.cert_pem)?;
            (issued.serial, issued.thumbprint)
        }
    };
    say!(
        "issued serial {} (x5t#S256 {}) into {}",
        written.0,
        written.1,
        args.out.display()
    );
    Ok(())
}

pub async fn cert(command: CertCommand, who: &Operator) -> Result<(), Failure> {
    let actor = who.actor()?;
    let now = SystemClock.now();
    match command {
        CertCommand::Issue(args) => issue(args, &actor, now).await,
        CertCommand::Revoke { c, serial, reason } => {
            let (_, store) = super::open(&c).await?;
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
