//! `doelpoort org …` and `doelpoort cert …`: onboarding and certificates from the command line, under the same
//! rules as the admin API.
use super::{say, usage, CertCommand, Failure, Lifecycle, OrgCommand};
use crate::edge::tls::TlsMaterial;
use crate::log::actor::AnyActor;
use crate::orgs::onboarding::{self, NewOrg, Signature, Transition};
use crate::types::clock::{Clock, SystemClock};

pub async fn org(command: OrgCommand) -> Result<(), Failure> {
    let actor = AnyActor::command_line();
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
            let (config, store) = super::open(&c).await?;
            let covenant = crate::covenant::Covenant::load(&config.covenant_dir)?;
            let jwks: serde_json::Value = serde_json::from_str(&super::read_file(&jwks)?)
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
            let (_, store) = super::open(&c).await?;
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
            let (_, store) = super::open(&c).await?;
            let sig = Signature {
                version,
                signed_on,
                signatory,
            };
            let r = onboarding::sign(&store, now, &actor, &oin, &sig).await;
            (store, r)
        }
        OrgCommand::RotateKeys { c, oin, jwks } => {
            let (_, store) = super::open(&c).await?;
            let jwks: serde_json::Value = serde_json::from_str(&super::read_file(&jwks)?)
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
    actor: &AnyActor,
    now: time::OffsetDateTime,
) -> Result<
    (
        crate::store::Store,
        Result<onboarding::OrgView, onboarding::OnboardingError>,
    ),
    Failure,
> {
    let (config, store) = super::open(&l.c).await?;
    let r = onboarding::transition(&store, now, actor, &config.host_oin, &l.oin, step, l.reason.as_deref()).await;
    Ok((store, r))
}

pub async fn cert(command: CertCommand) -> Result<(), Failure> {
    let actor = AnyActor::command_line();
    let now = SystemClock.now();
    match command {
        CertCommand::Issue {
            c,
            oin,
            out,
            name,
            days,
        } => {
            let (config, store) = super::open(&c).await?;
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
            super::write_private(&out.join("key.pem"), &issued.pem.key_pem)?;
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
