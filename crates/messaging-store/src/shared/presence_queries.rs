// Presence, for both backends: who hides it (the `PresenceSettings` port), and which instance holds
// sockets of which user (`presence_connections`, for the hub).

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
    /// Records that `instance` is alive as of `at` and holds sockets of `users` (a socket
    /// opening, or the instance's heartbeat naming every user it holds).
    ///
    /// The heartbeat writes the instance's one row, and a user's row only where it is missing
    /// (a socket opened while the database was away). It used to rewrite every user's row: at
    /// 2 000 users, first 2 000 commits in a row, then one statement whose WAL (every row and
    /// its pages) took 40-80 ms to flush, and every send committing meanwhile waited for that
    /// flush (docs/benchmarks.md).
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
            None => {
                diesel::delete(rows).execute(&mut *conn).await.map_err(DbError::from)?;
                diesel::delete(
                    presence_instances::table.filter(presence_instances::instance_id.eq(instance)),
                )
                .execute(&mut *conn)
                .await
            }
        }
        .map_err(DbError::from)?;
        Ok(())
    }

    /// Deletes the presence of instances whose last heartbeat is older than `before` (crashed or
    /// killed ones, which never cleared their rows), and any socket row of an instance without a
    /// heartbeat row. Returns how many instances were removed. Such rows already count for no
    /// one (their heartbeat is stale); this only keeps them from piling up. An instance that comes
    /// back after the sweep writes its rows again at its next heartbeat.
    pub async fn presence_sweep(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut conn = self.conn().await?;
        let alive = presence_instances::table
            .filter(presence_instances::seen_at.ge(before))
            .select(presence_instances::instance_id);
        diesel::delete(
            presence_connections::table
                .filter(presence_connections::instance_id.ne_all(alive)),
        )
        .execute(&mut *conn)
        .await
        .map_err(DbError::from)?;
        let removed = diesel::delete(
            presence_instances::table.filter(presence_instances::seen_at.lt(before)),
        )
        .execute(&mut *conn)
        .await
        .map_err(DbError::from)?;
        Ok(u64::try_from(removed).unwrap_or(0))
    }

    /// Whether some instance alive since `since` (its heartbeat) holds a socket of `user`.
    pub async fn presence_online(
        &self,
        user: UserId,
        since: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let found: Option<String> = presence_connections::table
            .inner_join(
                presence_instances::table
                    .on(presence_instances::instance_id.eq(presence_connections::instance_id)),
            )
            .filter(presence_connections::user_id.eq(user.0))
            .filter(presence_instances::seen_at.ge(since))
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
