//! The in-memory view of onboarded organisations, their token keys, their people (by certificate thumbprint) and
//! the revoked certificate serials. The
//! identity path reads only this snapshot; it is rebuilt whole and swapped in when the database's registry
//! generation changes (an admin call in this process, or `doelpoort org …` / `cert revoke` in another).
use arc_swap::ArcSwap;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::crypto::jwks::{decoding_key, TokenKey};
use crate::store::{RegistryRows, Store, StoreError};
use crate::types::{Oin, OrgKind, OrgStatus, PersonId, PersonStatus, UserRole};

#[derive(Debug)]
pub struct Organisation {
    pub oin: Oin,
    pub name: String,
    pub kind: OrgKind,
    pub covenant_roles: Vec<String>,
    /// CBS codes of the municipalities it is onboarded for (their factsheets are its to read).
    pub municipalities: Vec<String>,
    pub status: OrgStatus,
    /// Covenant versions this organisation signed.
    pub signed_versions: Vec<String>,
    /// Current token-verification keys by `kid`.
    pub keys: HashMap<String, TokenKey>,
}

/// A person of an organisation who uses the console with a personal certificate.
#[derive(Debug)]
pub struct Person {
    pub oin: Oin,
    pub id: PersonId,
    pub name: String,
    pub roles: Vec<UserRole>,
    pub status: PersonStatus,
}

#[derive(Debug, Default)]
pub struct Snapshot {
    pub generation: i64,
    orgs: HashMap<Oin, Arc<Organisation>>,
    revoked: HashSet<String>,
    /// People by the `x5t#S256` thumbprints of their certificates.
    people: HashMap<String, Arc<Person>>,
}

impl Snapshot {
    pub fn organisation(&self, oin: &Oin) -> Option<&Arc<Organisation>> {
        self.orgs.get(oin)
    }

    /// Every organisation in the registry, in no particular order.
    pub fn organisations(&self) -> impl Iterator<Item = &Arc<Organisation>> {
        self.orgs.values()
    }

    /// The person whose personal certificate has this thumbprint, whatever their status.
    pub fn person(&self, thumbprint: &str) -> Option<&Arc<Person>> {
        self.people.get(thumbprint)
    }

    pub fn is_revoked(&self, serial: &str) -> bool {
        self.revoked.contains(serial)
    }

    pub fn revoked_serials(&self) -> impl Iterator<Item = &String> {
        self.revoked.iter()
    }

    /// Builds a snapshot from database rows. A row that no longer parses (edited by hand) is left out, so that
    /// organisation is refused rather than half-trusted.
    pub fn from_rows(rows: RegistryRows) -> Snapshot {
        let mut orgs: HashMap<Oin, Organisation> = HashMap::new();
        for row in rows.orgs {
            let (Ok(oin), Ok(kind), Ok(status)) = (row.oin.parse::<Oin>(), row.kind.parse(), row.status.parse()) else {
                tracing::error!(oin = %row.oin, "organisation row does not parse; leaving it out");
                continue;
            };
            let covenant_roles = row.covenant_roles();
            let org = Organisation {
                municipalities: row.municipalities(),
                oin: oin.clone(),
                name: row.name,
                kind,
                covenant_roles,
                status,
                signed_versions: Vec::new(),
                keys: HashMap::new(),
            };
            orgs.insert(oin, org);
        }
        for key in rows.keys {
            let Ok(oin) = key.oin.parse::<Oin>() else { continue };
            match (orgs.get_mut(&oin), decoding_key(&key.alg, &key.jwk)) {
                (Some(org), Ok(k)) => {
                    org.keys.insert(key.kid, k);
                }
                (Some(_), Err(_)) => tracing::error!(oin = %key.oin, kid = %key.kid, "stored token key does not parse"),
                (None, _) => {}
            }
        }
        for sig in rows.signatures {
            let Ok(oin) = sig.oin.parse::<Oin>() else { continue };
            if let Some(org) = orgs.get_mut(&oin) {
                org.signed_versions.push(sig.version);
            }
        }
        Snapshot {
            generation: rows.generation,
            orgs: orgs.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(),
            revoked: rows.revoked.into_iter().collect(),
            people: people_by_thumbprint(rows.people, rows.person_certificates),
        }
    }
}

/// People by certificate thumbprint. A row that does not parse is left out, so that person is refused.
fn people_by_thumbprint(
    people: Vec<crate::store::PersonRow>,
    certs: Vec<crate::store::PersonCertRow>,
) -> HashMap<String, Arc<Person>> {
    let mut by_id: HashMap<(String, String), Arc<Person>> = HashMap::new();
    for row in people {
        let (Ok(oin), Ok(id), Ok(status)) = (row.oin.parse::<Oin>(), row.person_id.parse(), row.status.parse()) else {
            tracing::error!(oin = %row.oin, "person row does not parse; leaving it out");
            continue;
        };
        let roles = row.roles.split(',').filter_map(|r| r.parse().ok()).collect();
        let person = Person {
            oin,
            id,
            name: row.name,
            roles,
            status,
        };
        by_id.insert((row.oin, row.person_id), Arc::new(person));
    }
    certs
        .into_iter()
        .filter_map(|c| Some((c.thumbprint, by_id.get(&(c.oin, c.person_id))?.clone())))
        .collect()
}

/// The swappable snapshot.
#[derive(Debug, Default)]
pub struct Registry {
    current: ArcSwap<Snapshot>,
}

impl Registry {
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Reloads from the database if its generation differs from ours; returns whether anything changed.
    ///
    /// # Errors
    /// The database could not be read; the old snapshot stays in force.
    pub async fn refresh(&self, store: &Store) -> Result<bool, StoreError> {
        let generation = store.registry_generation().await?;
        if generation == self.current.load().generation {
            return Ok(false);
        }
        self.reload(store).await?;
        Ok(true)
    }

    /// Replaces the snapshot (tests and benchmarks build one without a database).
    pub fn set(&self, snapshot: Snapshot) {
        self.current.store(Arc::new(snapshot));
    }

    /// Reloads unconditionally.
    pub async fn reload(&self, store: &Store) -> Result<(), StoreError> {
        let rows = store.registry_rows().await?;
        self.current.store(Arc::new(Snapshot::from_rows(rows)));
        Ok(())
    }
}
