// Reading and verifying the audit log, shared by both backends. Included after `db.rs`, whose
// imports, schema and `Db` it uses; entries are written by `insert_audit` there.

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_log)]
struct AuditRow {
    id: i64,
    actor_id: Option<i64>,
    action: String,
    object_type: String,
    object_id: Option<i64>,
    client_addr: Option<String>,
    at: DateTime<Utc>,
    prev_hash: Option<String>,
    hash: Option<String>,
}

impl From<AuditRow> for crate::audit::AuditEntry {
    fn from(row: AuditRow) -> Self {
        Self {
            id: row.id,
            actor_id: row.actor_id.map(UserId),
            action: row.action,
            object_type: row.object_type,
            object_id: row.object_id,
            client_addr: row.client_addr,
            at: row.at,
            prev_hash: row.prev_hash,
            hash: row.hash,
        }
    }
}

/// Entries read per query while verifying: the walk keeps one batch in memory, never the log.
const AUDIT_VERIFY_BATCH: i64 = 1000;

impl Db {
    pub async fn audit_entries(
        &self,
        filter: crate::audit::AuditFilter,
        page: Page,
    ) -> Result<Vec<crate::audit::AuditEntry>, StoreError> {
        let mut conn = self.conn().await?;
        let mut query = audit_log::table
            .select(AuditRow::as_select())
            .order(audit_log::id.desc())
            .limit(page.limit())
            .offset(page.offset())
            .into_boxed();
        if let Some(actor) = filter.actor_id {
            query = query.filter(audit_log::actor_id.eq(actor.0));
        }
        if let Some(action) = filter.action {
            query = query.filter(audit_log::action.eq(action));
        }
        if let Some(object_type) = filter.object_type {
            query = query.filter(audit_log::object_type.eq(object_type));
        }
        if let Some(object_id) = filter.object_id {
            query = query.filter(audit_log::object_id.eq(object_id));
        }
        if let Some(since) = filter.since {
            query = query.filter(audit_log::at.ge(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(audit_log::at.lt(until));
        }
        let rows: Vec<AuditRow> = query.load(&mut *conn).await.map_err(DbError::from)?;
        Ok(rows
            .into_iter()
            .map(crate::audit::AuditEntry::from)
            .collect())
    }

    pub async fn verify_audit_chain(&self) -> Result<crate::audit::AuditVerification, StoreError> {
        let mut walk = crate::audit::ChainWalk::default();
        let mut after = i64::MIN;
        loop {
            // A connection per batch, so that a long walk does not hold SQLite's only connection.
            let rows: Vec<AuditRow> = {
                let mut conn = self.conn().await?;
                audit_log::table
                    .filter(audit_log::id.gt(after))
                    .order(audit_log::id.asc())
                    .limit(AUDIT_VERIFY_BATCH)
                    .select(AuditRow::as_select())
                    .load(&mut *conn)
                    .await
                    .map_err(DbError::from)?
            };
            let Some(last) = rows.last() else {
                return Ok(walk.finish(None));
            };
            after = last.id;
            for row in rows {
                if let Some(broken) = walk.check(&crate::audit::AuditEntry::from(row)) {
                    return Ok(walk.finish(Some(broken)));
                }
            }
        }
    }
}

port! {
impl AuditTrail for Db {
    async fn audit_entries(
        &self,
        filter: crate::audit::AuditFilter,
        page: Page,
    ) -> Result<Vec<crate::audit::AuditEntry>, StoreError> {
        Db::audit_entries(self, filter, page).await
    }

    async fn verify_audit_chain(&self) -> Result<crate::audit::AuditVerification, StoreError> {
        Db::verify_audit_chain(self).await
    }
}
}
