//! People who use the console and their personal certificates. Every write moves the registry generation through
//! its caller (the registry snapshot holds people by certificate thumbprint).
use super::{Store, StoreError, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonRow {
    pub oin: String,
    pub person_id: String,
    pub name: String,
    /// User roles, comma separated.
    pub roles: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonCertRow {
    pub thumbprint: String,
    pub oin: String,
    pub person_id: String,
    pub serial: String,
    pub not_after: String,
    /// `issued`, `csr` or `registered`.
    pub source: String,
    pub added_at: String,
}

impl Store {
    /// People, by organisation and id; of one organisation when `oin` is given.
    pub async fn people(&self, oin: Option<&str>) -> Result<Vec<PersonRow>, StoreError> {
        Ok(sqlx::query_as::<_, PersonRow>(
            "SELECT * FROM people WHERE ($1 IS NULL OR oin = $1) ORDER BY oin, person_id",
        )
        .bind(oin)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn person(&self, oin: &str, person_id: &str) -> Result<Option<PersonRow>, StoreError> {
        Ok(
            sqlx::query_as::<_, PersonRow>("SELECT * FROM people WHERE oin = $1 AND person_id = $2")
                .bind(oin)
                .bind(person_id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Personal certificates, of one organisation when `oin` is given.
    pub async fn person_certificates(&self, oin: Option<&str>) -> Result<Vec<PersonCertRow>, StoreError> {
        Ok(sqlx::query_as::<_, PersonCertRow>(
            "SELECT * FROM person_certificates WHERE ($1 IS NULL OR oin = $1) ORDER BY oin, person_id, added_at",
        )
        .bind(oin)
        .fetch_all(self.pool())
        .await?)
    }
}

impl Tx {
    /// Inserts an active person.
    ///
    /// # Errors
    /// [`StoreError::Exists`] when the organisation has a person with this id already (also a removed one).
    pub async fn insert_person(&mut self, row: &PersonRow) -> Result<(), StoreError> {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT person_id FROM people WHERE oin = $1 AND person_id = $2")
                .bind(&row.oin)
                .bind(&row.person_id)
                .fetch_optional(self.conn())
                .await?;
        if exists.is_some() {
            return Err(StoreError::Exists("person"));
        }
        sqlx::query(
            "INSERT INTO people (oin, person_id, name, roles, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&row.oin)
        .bind(&row.person_id)
        .bind(&row.name)
        .bind(&row.roles)
        .bind(&row.status)
        .bind(&row.created_at)
        .bind(&row.updated_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Registers a personal certificate.
    ///
    /// # Errors
    /// [`StoreError::Exists`] when the certificate is registered already.
    pub async fn insert_person_certificate(&mut self, row: &PersonCertRow) -> Result<(), StoreError> {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT thumbprint FROM person_certificates WHERE thumbprint = $1")
                .bind(&row.thumbprint)
                .fetch_optional(self.conn())
                .await?;
        if exists.is_some() {
            return Err(StoreError::Exists("certificate"));
        }
        sqlx::query(
            "INSERT INTO person_certificates (thumbprint, oin, person_id, serial, not_after, source, added_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&row.thumbprint)
        .bind(&row.oin)
        .bind(&row.person_id)
        .bind(&row.serial)
        .bind(&row.not_after)
        .bind(&row.source)
        .bind(&row.added_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Sets a person's status if its current one is among `from`; returns the previous status.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown person.
    pub async fn set_person_status(
        &mut self,
        (oin, person_id): (&str, &str),
        from: &[&str],
        to: &str,
        now: &str,
    ) -> Result<String, StoreError> {
        let current: String = sqlx::query_scalar("SELECT status FROM people WHERE oin = $1 AND person_id = $2")
            .bind(oin)
            .bind(person_id)
            .fetch_optional(self.conn())
            .await?
            .ok_or(StoreError::NotFound("person"))?;
        if from.contains(&current.as_str()) {
            sqlx::query("UPDATE people SET status = $1, updated_at = $2 WHERE oin = $3 AND person_id = $4")
                .bind(to)
                .bind(now)
                .bind(oin)
                .bind(person_id)
                .execute(self.conn())
                .await?;
        }
        Ok(current)
    }
}
