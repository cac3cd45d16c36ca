// Accounts (the `Credentials` port: creating one, its password hash, password changes), the status
// every authenticated request reads (`AccountStatuses`) and the audit log's writer for actions
// that are not part of another change (`AuditLog`), for both backends. `revoke_credentials` is
// shared with the admins' deactivation.

port! {
impl Credentials for Db {
    async fn credentials(&self, username: &str) -> Result<Option<(User, String)>, StoreError> {
        let mut conn = self.conn().await?;
        let row = users::table
            .filter(lower(users::username).eq(username.to_lowercase()))
            .select(UserRow::as_select())
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(row.map(UserRow::into_user).transpose()?)
    }

    async fn credentials_by_id(&self, id: UserId) -> Result<Option<(User, String)>, StoreError> {
        let mut conn = self.conn().await?;
        let row = users::table
            .find(id.0)
            .select(UserRow::as_select())
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(row.map(UserRow::into_user).transpose()?)
    }

    async fn create_account(
        &self,
        account: NewAccount,
        audit: AuditRecord,
    ) -> Result<User, StoreError> {
        let now = audit.at;
        let mut conn = self.conn().await?;
        let user = conn
            .transaction::<_, DbError, _>(async move |conn| {
                    let row = diesel::insert_into(users::table)
                        .values((
                            users::username.eq(account.username.as_str()),
                            users::email.eq(account.email.as_str()),
                            users::password_hash.eq(&account.password_hash),
                            users::first_name.eq(&account.first_name),
                            users::last_name.eq(&account.last_name),
                            users::role.eq(account.role.as_str()),
                            users::is_active.eq(true),
                            users::created_at.eq(now),
                        ))
                        .returning(UserRow::as_returning())
                        .get_result(conn)
                        .await?;
                    let (user, _) = row.into_user()?;
                    let mut audit = audit;
                    audit.object_id = Some(user.id.0);
                    audit.actor = Some(user.id);
                    insert_audit(conn, &audit).await?;
                    Ok(user)
                })
            .await?;
        Ok(user)
    }

    /// Replaces a password hash; every other credential of the user stops working (see
    /// [`messaging_domain::ports::Credentials::set_password`]).
    async fn set_password(
        &self,
        user: UserId,
        password_hash: String,
        keep: Option<SessionKey>,
        now: DateTime<Utc>,
        audit: AuditRecord,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, DbError, _>(async move |conn| {
            let changed = diesel::update(users::table.find(user.0))
                .set((
                    users::password_hash.eq(&password_hash),
                    users::credential_version.eq(users::credential_version + 1),
                ))
                .execute(conn)
                .await?;
            if changed == 0 {
                return Err(DbError::Domain(StoreError::NotFound));
            }
            revoke_credentials(conn, user, keep.as_ref(), now).await?;
            insert_audit(conn, &audit).await?;
            Ok(())
        })
        .await?;
        Ok(())
    }
}
}

port! {
impl AccountStatuses for Db {
    async fn account_status(&self, id: UserId) -> Result<Option<AccountStatus>, StoreError> {
        let mut conn = self.conn().await?;
        let row: Option<(String, bool, i64)> = users::table
            .find(id.0)
            .select((users::role, users::is_active, users::credential_version))
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        row.map(|(role, active, credential_version)| {
            Ok(AccountStatus {
                role: Role::parse(&role).ok_or(DbError::Corrupt("users.role"))?,
                active,
                credential_version,
            })
        })
        .transpose()
        .map_err(|e: DbError| e.into())
    }
}
}

port! {
impl AuditLog for Db {
    async fn record(&self, record: AuditRecord) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        // A lone entry still needs a transaction: the chain lock lasts as long as one.
        conn.transaction::<_, DbError, _>(async move |conn| insert_audit(conn, &record).await)
            .await?;
        Ok(())
    }
}
}

/// Revokes every browser session of `user` but `keep`, every refresh token and every unredeemed
/// WebSocket ticket, inside the caller's transaction.
async fn revoke_credentials(
    conn: &mut Conn,
    user: UserId,
    keep: Option<&SessionKey>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let sessions = sessions::table
        .filter(sessions::user_id.eq(user.0))
        .filter(sessions::revoked_at.is_null());
    match keep {
        Some(keep) => {
            diesel::update(sessions.filter(sessions::id_hash.ne(&keep.0)))
                .set(sessions::revoked_at.eq(Some(now)))
                .execute(conn)
                .await?
        }
        None => {
            diesel::update(sessions)
                .set(sessions::revoked_at.eq(Some(now)))
                .execute(conn)
                .await?
        }
    };
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user.0))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now)))
    .execute(conn)
    .await?;
    diesel::delete(ws_tickets::table.filter(ws_tickets::user_id.eq(user.0)))
        .execute(conn)
        .await?;
    Ok(())
}
