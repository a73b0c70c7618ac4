//! Organisations, token keys, signatures, certificates and revocations: the registry's tables. Every write moves
//! the registry generation ([`Tx::registry_changed`]), which running gateways poll.
use super::{Store, StoreError, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgRow {
    pub oin: String,
    pub name: String,
    pub kind: String,
    /// Covenant roles, comma separated.
    pub roles: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    /// Start of the current membership period, when the organisation rejoined after offboarding.
    pub member_since: Option<String>,
    /// CBS codes of the municipalities it is onboarded for, comma separated.
    pub municipalities: String,
}

impl OrgRow {
    /// The municipalities it is onboarded for, stored comma separated.
    pub fn municipalities(&self) -> Vec<String> {
        self.municipalities
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The covenant roles, stored comma separated.
    pub fn covenant_roles(&self) -> Vec<String> {
        self.roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub oin: String,
    pub kid: String,
    pub alg: String,
    pub jwk: String,
}

/// A registered token key with its history: when it was added and, once replaced, retired.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RegisteredKey {
    pub oin: String,
    pub kid: String,
    pub alg: String,
    pub jwk: String,
    pub added_at: String,
    pub retired_at: Option<String>,
}

/// A certificate the gateway's CA issued, with its revocation when there is one.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IssuedRow {
    pub serial: String,
    pub thumbprint: String,
    pub not_after: String,
    pub issued_at: String,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignatureRow {
    pub oin: String,
    pub version: String,
    pub signed_on: String,
    pub signatory: String,
    pub recorded_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CertificateRow {
    pub serial: String,
    pub oin: String,
    pub thumbprint: String,
    pub not_after: String,
    pub issued_at: String,
}

/// Everything needed to insert an organisation.
#[derive(Debug, Clone)]
pub struct NewOrganisation {
    pub oin: String,
    pub name: String,
    pub kind: String,
    pub roles: String,
    /// Comma separated, as stored.
    pub municipalities: String,
    pub keys: Vec<KeyRow>,
}

/// The registry's view of the database, read in one go.
#[derive(Debug, Default)]
pub struct RegistryRows {
    pub generation: i64,
    pub orgs: Vec<OrgRow>,
    pub keys: Vec<KeyRow>,
    pub signatures: Vec<SignatureRow>,
    pub revoked: Vec<String>,
    pub people: Vec<super::PersonRow>,
    pub person_certificates: Vec<super::PersonCertRow>,
}

impl Store {
    pub async fn registry_generation(&self) -> Result<i64, StoreError> {
        let g: i64 = sqlx::query_scalar("SELECT generation FROM registry_generation WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        Ok(g)
    }

    /// Reads organisations, current keys, signatures and revoked serials in one transaction.
    pub async fn registry_rows(&self) -> Result<RegistryRows, StoreError> {
        let mut tx = self.pool().begin().await?;
        let generation: i64 = sqlx::query_scalar("SELECT generation FROM registry_generation WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let orgs = sqlx::query_as::<_, OrgRow>("SELECT * FROM organisations ORDER BY oin")
            .fetch_all(&mut *tx)
            .await?;
        let keys = sqlx::query_as::<_, KeyRow>(
            "SELECT oin, kid, alg, jwk FROM token_keys WHERE retired_at IS NULL ORDER BY oin, kid",
        )
        .fetch_all(&mut *tx)
        .await?;
        let signatures = sqlx::query_as::<_, SignatureRow>("SELECT * FROM covenant_signatures ORDER BY oin, version")
            .fetch_all(&mut *tx)
            .await?;
        let revoked: Vec<String> = sqlx::query_scalar("SELECT serial FROM revocations")
            .fetch_all(&mut *tx)
            .await?;
        let people = sqlx::query_as::<_, super::PersonRow>("SELECT * FROM people ORDER BY oin, person_id")
            .fetch_all(&mut *tx)
            .await?;
        let person_certificates =
            sqlx::query_as::<_, super::PersonCertRow>("SELECT * FROM person_certificates ORDER BY thumbprint")
                .fetch_all(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(RegistryRows {
            generation,
            orgs,
            keys,
            signatures,
            revoked,
            people,
            person_certificates,
        })
    }

    pub async fn organisation(&self, oin: &str) -> Result<Option<OrgRow>, StoreError> {
        Ok(
            sqlx::query_as::<_, OrgRow>("SELECT * FROM organisations WHERE oin = $1")
                .bind(oin)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    pub async fn organisations(&self) -> Result<Vec<OrgRow>, StoreError> {
        Ok(sqlx::query_as::<_, OrgRow>("SELECT * FROM organisations ORDER BY oin")
            .fetch_all(self.pool())
            .await?)
    }

    pub async fn signatures_of(&self, oin: &str) -> Result<Vec<SignatureRow>, StoreError> {
        Ok(
            sqlx::query_as::<_, SignatureRow>("SELECT * FROM covenant_signatures WHERE oin = $1 ORDER BY version")
                .bind(oin)
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// The certificates issued to `oin`, oldest first, each with its revocation.
    pub async fn certificates_of(&self, oin: &str) -> Result<Vec<IssuedRow>, StoreError> {
        Ok(sqlx::query_as::<_, IssuedRow>(
            "SELECT c.serial, c.thumbprint, c.not_after, c.issued_at, r.revoked_at FROM certificates c \
             LEFT JOIN revocations r ON r.serial = c.serial WHERE c.oin = $1 ORDER BY c.issued_at, c.serial",
        )
        .bind(oin)
        .fetch_all(self.pool())
        .await?)
    }

    /// Every registered token key, current and retired.
    pub async fn token_keys(&self) -> Result<Vec<RegisteredKey>, StoreError> {
        Ok(sqlx::query_as::<_, RegisteredKey>(
            "SELECT oin, kid, alg, jwk, added_at, retired_at FROM token_keys ORDER BY oin, added_at, kid",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Revoked serials with their revocation time, for the CRL of the gateway's own CA.
    pub async fn revocations(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT serial, revoked_at FROM revocations ORDER BY serial")
            .fetch_all(self.pool())
            .await?;
        Ok(rows)
    }
}

impl Tx {
    /// Inserts an organisation (status `active`) with its keys.
    ///
    /// # Errors
    /// [`StoreError::Exists`] when the OIN is onboarded already.
    pub async fn insert_organisation(&mut self, org: &NewOrganisation, now: &str) -> Result<(), StoreError> {
        let exists: Option<String> = sqlx::query_scalar("SELECT oin FROM organisations WHERE oin = $1")
            .bind(&org.oin)
            .fetch_optional(self.conn())
            .await?;
        if exists.is_some() {
            return Err(StoreError::Exists("organisation"));
        }
        sqlx::query(
            "INSERT INTO organisations (oin, name, kind, roles, status, created_at, updated_at, municipalities) \
             VALUES ($1, $2, $3, $4, 'active', $5, $5, $6)",
        )
        .bind(&org.oin)
        .bind(&org.name)
        .bind(&org.kind)
        .bind(&org.roles)
        .bind(now)
        .bind(&org.municipalities)
        .execute(self.conn())
        .await?;
        self.insert_keys(&org.keys, now).await
    }

    /// Starts a new membership period for an offboarded organisation: new name, kind, roles and keys, status
    /// `active`; its earlier keys are retired, and its earlier signatures move to `former_signatures`. `false` when it was not
    /// offboarded (nothing changed).
    ///
    /// # Errors
    /// The database refused.
    pub async fn rejoin_organisation(&mut self, org: &NewOrganisation, now: &str) -> Result<bool, StoreError> {
        let rejoined = sqlx::query(
            "UPDATE organisations SET name = $1, kind = $2, roles = $3, status = 'active', updated_at = $4, \
             member_since = $4, municipalities = $6 WHERE oin = $5 AND status = 'offboarded'",
        )
        .bind(&org.name)
        .bind(&org.kind)
        .bind(&org.roles)
        .bind(now)
        .bind(&org.oin)
        .bind(&org.municipalities)
        .execute(self.conn())
        .await?
        .rows_affected()
            == 1;
        if rejoined {
            self.replace_keys(&org.oin, &org.keys, now).await?;
            sqlx::query(
                "INSERT INTO former_signatures (oin, version, signed_on, signatory, recorded_at, ended_at) \
                 SELECT oin, version, signed_on, signatory, recorded_at, $1 FROM covenant_signatures WHERE oin = $2",
            )
            .bind(now)
            .bind(&org.oin)
            .execute(self.conn())
            .await?;
            sqlx::query("DELETE FROM covenant_signatures WHERE oin = $1")
                .bind(&org.oin)
                .execute(self.conn())
                .await?;
        }
        Ok(rejoined)
    }

    /// Sets the status of an organisation if its current status is one of `from` (offboarding also revokes the
    /// certificates the gateway issued to it); returns the previous status.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown OIN.
    pub async fn set_status(&mut self, oin: &str, from: &[&str], to: &str, now: &str) -> Result<String, StoreError> {
        let current: String = sqlx::query_scalar("SELECT status FROM organisations WHERE oin = $1")
            .bind(oin)
            .fetch_optional(self.conn())
            .await?
            .ok_or(StoreError::NotFound("organisation"))?;
        if !from.contains(&current.as_str()) {
            return Ok(current);
        }
        sqlx::query("UPDATE organisations SET status = $1, updated_at = $2 WHERE oin = $3")
            .bind(to)
            .bind(now)
            .bind(oin)
            .execute(self.conn())
            .await?;
        if to == "offboarded" {
            sqlx::query(
                "INSERT INTO revocations (serial, revoked_at, reason) \
                 SELECT serial, $1, 'organisation offboarded' FROM certificates \
                 WHERE oin = $2 AND serial NOT IN (SELECT serial FROM revocations)",
            )
            .bind(now)
            .bind(oin)
            .execute(self.conn())
            .await?;
        }
        Ok(current)
    }

    /// Retires every current key of the organisation and registers `keys` instead.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown OIN.
    pub async fn replace_keys(&mut self, oin: &str, keys: &[KeyRow], now: &str) -> Result<(), StoreError> {
        let updated = sqlx::query("UPDATE organisations SET updated_at = $1 WHERE oin = $2")
            .bind(now)
            .bind(oin)
            .execute(self.conn())
            .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound("organisation"));
        }
        sqlx::query("UPDATE token_keys SET retired_at = $1 WHERE oin = $2 AND retired_at IS NULL")
            .bind(now)
            .bind(oin)
            .execute(self.conn())
            .await?;
        // A key id may come back in a later rotation: the retired row with that id makes way for it.
        for key in keys {
            sqlx::query("DELETE FROM token_keys WHERE oin = $1 AND kid = $2")
                .bind(oin)
                .bind(&key.kid)
                .execute(self.conn())
                .await?;
        }
        self.insert_keys(keys, now).await
    }

    /// Records that an organisation signed a covenant version.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown OIN, [`StoreError::Exists`] when this version is signed already.
    pub async fn insert_signature(&mut self, sig: &SignatureRow) -> Result<(), StoreError> {
        let org: Option<String> = sqlx::query_scalar("SELECT oin FROM organisations WHERE oin = $1")
            .bind(&sig.oin)
            .fetch_optional(self.conn())
            .await?;
        if org.is_none() {
            return Err(StoreError::NotFound("organisation"));
        }
        let exists: Option<String> =
            sqlx::query_scalar("SELECT oin FROM covenant_signatures WHERE oin = $1 AND version = $2")
                .bind(&sig.oin)
                .bind(&sig.version)
                .fetch_optional(self.conn())
                .await?;
        if exists.is_some() {
            return Err(StoreError::Exists("signature of this covenant version"));
        }
        sqlx::query(
            "INSERT INTO covenant_signatures (oin, version, signed_on, signatory, recorded_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&sig.oin)
        .bind(&sig.version)
        .bind(&sig.signed_on)
        .bind(&sig.signatory)
        .bind(&sig.recorded_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Remembers a certificate the gateway's own CA issued (so offboarding can revoke it).
    ///
    /// # Errors
    /// The database refused.
    pub async fn insert_certificate(&mut self, cert: &CertificateRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO certificates (serial, oin, thumbprint, not_after, issued_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&cert.serial)
        .bind(&cert.oin)
        .bind(&cert.thumbprint)
        .bind(&cert.not_after)
        .bind(&cert.issued_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Revokes a certificate by serial (lowercase hex); `false` when it was revoked already.
    ///
    /// # Errors
    /// The database refused.
    pub async fn revoke(&mut self, serial: &str, reason: &str, now: &str) -> Result<bool, StoreError> {
        let exists: Option<String> = sqlx::query_scalar("SELECT serial FROM revocations WHERE serial = $1")
            .bind(serial)
            .fetch_optional(self.conn())
            .await?;
        if exists.is_some() {
            return Ok(false);
        }
        sqlx::query("INSERT INTO revocations (serial, revoked_at, reason) VALUES ($1, $2, $3)")
            .bind(serial)
            .bind(now)
            .bind(reason)
            .execute(self.conn())
            .await?;
        Ok(true)
    }

    /// Moves the registry generation, so running gateways reload their view of the registry.
    ///
    /// # Errors
    /// The database refused.
    pub async fn registry_changed(&mut self) -> Result<(), StoreError> {
        sqlx::query("UPDATE registry_generation SET generation = generation + 1 WHERE id = 1")
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn insert_keys(&mut self, keys: &[KeyRow], now: &str) -> Result<(), StoreError> {
        for key in keys {
            sqlx::query("INSERT INTO token_keys (oin, kid, alg, jwk, added_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&key.oin)
                .bind(&key.kid)
                .bind(&key.alg)
                .bind(&key.jwk)
                .bind(now)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }
}
