// Browser sessions and refresh tokens (the `Sessions` port), stored by hash, for both backends.

/// A session row: id hash, user, created, last seen, revoked.
type SessionRow = (String, i64, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>);

#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct RefreshRow {
    user_id: i64,
    family: String,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

port! {
impl Sessions for Db {
    async fn insert_session(&self, session: SessionRecord) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        diesel::insert_into(sessions::table)
            .values((
                sessions::id_hash.eq(&session.id_hash),
                sessions::user_id.eq(session.user_id.0),
                sessions::created_at.eq(session.created_at),
                sessions::last_seen_at.eq(session.last_seen_at),
            ))
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(())
    }

    async fn session(&self, id_hash: String) -> Result<Option<SessionRecord>, StoreError> {
        let mut conn = self.conn().await?;
        let row: Option<SessionRow> =
            sessions::table
                .find(&id_hash)
                .select((
                    sessions::id_hash,
                    sessions::user_id,
                    sessions::created_at,
                    sessions::last_seen_at,
                    sessions::revoked_at,
                ))
                .first(&mut *conn)
                .await
                .optional()
                .map_err(DbError::from)?;
        Ok(row.map(|(id_hash, user, created, seen, revoked)| SessionRecord {
            id_hash,
            user_id: UserId(user),
            created_at: created,
            last_seen_at: seen,
            revoked_at: revoked,
        }))
    }

    async fn touch_session(&self, id_hash: String, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        diesel::update(sessions::table.find(&id_hash))
            .set(sessions::last_seen_at.eq(now))
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(())
    }

    async fn revoke_session(&self, id_hash: String, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        diesel::update(sessions::table.find(&id_hash).filter(sessions::revoked_at.is_null()))
            .set(sessions::revoked_at.eq(Some(now)))
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(())
    }

    async fn insert_refresh_token(&self, token: RefreshTokenRecord) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        diesel::insert_into(refresh_tokens::table)
            .values((
                refresh_tokens::token_hash.eq(&token.token_hash),
                refresh_tokens::user_id.eq(token.user_id.0),
                refresh_tokens::family.eq(&token.family),
                refresh_tokens::issued_at.eq(token.issued_at),
                refresh_tokens::expires_at.eq(token.expires_at),
            ))
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(())
    }

    async fn consume_refresh_token(
        &self,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<RefreshOutcome, StoreError> {
        let mut conn = self.conn().await?;
        let outcome = conn
            .transaction::<_, DbError, _>(async move |conn| {
                    let Some(row) = refresh_tokens::table
                        .find(&token_hash)
                        .select(RefreshRow::as_select())
                        .first(conn)
                        .await
                        .optional()?
                    else {
                        return Ok(RefreshOutcome::Invalid);
                    };
                    // A revoked family stays revoked: a token stored in it afterwards (by a
                    // request that won a race against the reuse that revoked it) is refused too.
                    let family_revoked: Option<String> = refresh_tokens::table
                        .filter(refresh_tokens::family.eq(&row.family))
                        .filter(refresh_tokens::revoked_at.is_not_null())
                        .select(refresh_tokens::token_hash)
                        .first(conn)
                        .await
                        .optional()?;
                    if row.revoked_at.is_some() || family_revoked.is_some() {
                        return Ok(RefreshOutcome::Invalid);
                    }
                    if row.used_at.is_some() {
                        // A used token came back: someone holds a copy. Revoke the whole family so
                        // that neither copy works any more.
                        diesel::update(
                            refresh_tokens::table
                                .filter(refresh_tokens::family.eq(&row.family))
                                .filter(refresh_tokens::revoked_at.is_null()),
                        )
                        .set(refresh_tokens::revoked_at.eq(Some(now)))
                        .execute(conn)
                        .await?;
                        return Ok(RefreshOutcome::Reused {
                            user_id: UserId(row.user_id),
                        });
                    }
                    if row.expires_at <= now {
                        return Ok(RefreshOutcome::Invalid);
                    }
                    let marked = diesel::update(
                        refresh_tokens::table
                            .find(&token_hash)
                            .filter(refresh_tokens::used_at.is_null()),
                    )
                    .set(refresh_tokens::used_at.eq(Some(now)))
                    .execute(conn)
                    .await?;
                    if marked == 0 {
                        // Another request used the token between our read and our write: two
                        // uses at once are a reuse like any other.
                        diesel::update(
                            refresh_tokens::table
                                .filter(refresh_tokens::family.eq(&row.family))
                                .filter(refresh_tokens::revoked_at.is_null()),
                        )
                        .set(refresh_tokens::revoked_at.eq(Some(now)))
                        .execute(conn)
                        .await?;
                        return Ok(RefreshOutcome::Reused {
                            user_id: UserId(row.user_id),
                        });
                    }
                    Ok(RefreshOutcome::Valid {
                        user_id: UserId(row.user_id),
                        family: row.family,
                    })
                })
            .await?;
        Ok(outcome)
    }

    async fn revoke_refresh_family(
        &self,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let family: Option<String> = refresh_tokens::table
            .find(&token_hash)
            .select(refresh_tokens::family)
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        let Some(family) = family else {
            return Ok(false);
        };
        diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::family.eq(&family))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(Some(now)))
        .execute(&mut *conn)
        .await
        .map_err(DbError::from)?;
        Ok(true)
    }
}
}
