// An admin's change to an account (role and active flag together), shared by both backends.
// Included after `db.rs`, whose imports, schema, `Db`, `UserRow`, `revoke_credentials` and
// `insert_audit` it uses.

impl Db {
    /// Applies every field of `change` and appends every record of `audit` in one transaction:
    /// either the whole change is stored, audited, or none of it. The user row is written first,
    /// then the credentials it revokes, then the audit chain, as the lock order in `queries.rs`
    /// says.
    pub async fn change_account(
        &self,
        user: UserId,
        change: messaging_domain::ports::AccountChange,
        audit: Vec<AuditRecord>,
    ) -> Result<User, StoreError> {
        let mut conn = self.conn().await?;
        let row = conn
            .transaction::<_, DbError, _>(async move |conn| {
                let target = users::table.find(user.0);
                let mut row: Option<UserRow> = None;
                if let Some(role) = change.role {
                    row = Some(
                        diesel::update(target)
                            .set(users::role.eq(role.as_str()))
                            .returning(UserRow::as_returning())
                            .get_result(conn)
                            .await?,
                    );
                }
                match change.active {
                    Some(false) => {
                        // Nothing issued before a deactivation may work again, not even after a
                        // reactivation: the version goes up and every credential is revoked.
                        row = Some(
                            diesel::update(target)
                                .set((
                                    users::is_active.eq(false),
                                    users::credential_version.eq(users::credential_version + 1),
                                ))
                                .returning(UserRow::as_returning())
                                .get_result(conn)
                                .await?,
                        );
                        let at = audit.iter().map(|record| record.at).next().unwrap_or_else(Utc::now);
                        revoke_credentials(conn, user, None, at).await?;
                    }
                    Some(true) => {
                        row = Some(
                            diesel::update(target)
                                .set(users::is_active.eq(true))
                                .returning(UserRow::as_returning())
                                .get_result(conn)
                                .await?,
                        );
                    }
                    None => {}
                }
                let row = match row {
                    Some(row) => row,
                    None => target.select(UserRow::as_select()).first(conn).await?,
                };
                for record in &audit {
                    insert_audit(conn, record).await?;
                }
                Ok(row)
            })
            .await?;
        Ok(row.into_user()?.0)
    }
}

port! {
impl AccountChanges for Db {
    async fn change_account(
        &self,
        user: UserId,
        change: messaging_domain::ports::AccountChange,
        audit: Vec<AuditRecord>,
    ) -> Result<User, StoreError> {
        Db::change_account(self, user, change, audit).await
    }
}
}
