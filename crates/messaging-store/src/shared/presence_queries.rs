// Presence, for both backends: who hides it (the `PresenceSettings` port), and which instance holds
// sockets of which user (`presence_connections`, for the hub).

/// One `presence_connections` row, as the insert takes it.
type PresenceRow<'a> = (
    diesel::dsl::Eq<presence_connections::instance_id, &'a str>,
    diesel::dsl::Eq<presence_connections::user_id, i64>,
    diesel::dsl::Eq<presence_connections::seen_at, DateTime<Utc>>,
);

/// One `presence_connections` row: `user` connected to `instance` as of `at`.
fn presence_row(instance: &str, user: i64, at: DateTime<Utc>) -> PresenceRow<'_> {
    (
        presence_connections::instance_id.eq(instance),
        presence_connections::user_id.eq(user),
        presence_connections::seen_at.eq(at),
    )
}

/// The upsert of `$rows` (one [`presence_row`] or several): a user already marked on that
/// instance gets the new time. Each backend's `Dialect::touch_presence` runs it its own way.
macro_rules! upsert_presence {
    ($rows:expr, $at:expr) => {
        diesel::insert_into(presence_connections::table)
            .values($rows)
            .on_conflict((
                presence_connections::user_id,
                presence_connections::instance_id,
            ))
            .do_update()
            .set(presence_connections::seen_at.eq($at))
    };
}

port! {
impl PresenceSettings for Db {
    async fn presence_hidden(&self, user: UserId) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let hidden: Option<bool> = presence_settings::table
            .find(user.0)
            .select(presence_settings::hidden)
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(hidden.unwrap_or(false))
    }

    async fn set_presence_hidden(&self, user: UserId, hidden: bool) -> Result<bool, StoreError> {
        let before = self.presence_hidden(user).await?;
        let mut conn = self.conn().await?;
        diesel::insert_into(presence_settings::table)
            .values((
                presence_settings::user_id.eq(user.0),
                presence_settings::hidden.eq(hidden),
            ))
            .on_conflict(presence_settings::user_id)
            .do_update()
            .set(presence_settings::hidden.eq(hidden))
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(before != hidden)
    }
}
}

impl Db {
    /// Marks `users` as connected to `instance` as of `at` (the instance's heartbeat).
    ///
    /// Rows at once, not a statement per user: that made the heartbeat of a server holding
    /// 2 000 users 2 000 commits in a row, each waiting for its WAL flush, and the sends
    /// committing meanwhile waited behind them (50-120 ms stalls every 30 s; docs/benchmarks.md).
    pub async fn presence_touch(
        &self,
        instance: &str,
        users: &[UserId],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut ids: Vec<i64> = users.iter().map(|u| u.0).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn().await?;
        Sql::touch_presence(&mut conn, instance, &ids, at).await?;
        Ok(())
    }

    /// Forgets that `users` (all of them when `None`) are connected to `instance`.
    pub async fn presence_leave(
        &self,
        instance: &str,
        users: Option<&[UserId]>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        let rows = presence_connections::table.filter(presence_connections::instance_id.eq(instance));
        match users {
            Some(users) => {
                let ids: Vec<i64> = users.iter().map(|u| u.0).collect();
                diesel::delete(rows.filter(presence_connections::user_id.eq_any(ids)))
                    .execute(&mut *conn)
                    .await
            }
            None => diesel::delete(rows).execute(&mut *conn).await,
        }
        .map_err(DbError::from)?;
        Ok(())
    }

    /// Whether some instance has seen `user` connected since `since`.
    pub async fn presence_online(
        &self,
        user: UserId,
        since: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let found: Option<String> = presence_connections::table
            .filter(presence_connections::user_id.eq(user.0))
            .filter(presence_connections::seen_at.ge(since))
            .select(presence_connections::instance_id)
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(found.is_some())
    }
}

port! {
impl PresenceStatus for Db {
    async fn online_since(&self, user: UserId, since: DateTime<Utc>) -> Result<bool, StoreError> {
        Db::presence_online(self, user, since).await
    }
}
}
