// Users' event streams, for both backends: appending a change's planned events (in the change's
// transaction), redacting a message deleted for everyone, and replaying and pruning streams (the
// `EventLog` port).

/// Appends the planned events to their users' streams. Must run inside the caller's transaction:
/// each user's head row stays locked until it ends, so numbers are handed out gap-free and in
/// commit order, and a rollback takes the entries and their numbers back. Heads are locked in
/// user-id order whatever the audience order, so two changes crossing cannot deadlock.
async fn append_events(
    conn: &mut Conn,
    origin: &str,
    planned: Vec<Outgoing>,
    at: DateTime<Utc>,
) -> Result<Vec<StreamEvent>, DbError> {
    use chrono::SubsecRound;
    let at = at.trunc_subsecs(6);
    let mut entries: Vec<(UserId, std::sync::Arc<DomainEvent>, std::sync::Arc<String>)> =
        Vec::new();
    for outgoing in planned {
        let payload = crate::stored_event::encode(&outgoing.event)?;
        let (event, payload) = (
            std::sync::Arc::new(outgoing.event),
            std::sync::Arc::new(payload),
        );
        for user in outgoing.audience {
            entries.push((user, event.clone(), payload.clone()));
        }
    }
    entries.sort_by_key(|(user, _, _)| *user);
    let mut appended = Vec::with_capacity(entries.len());
    for (user, event, payload) in entries {
        let seq: i64 = diesel::insert_into(event_heads::table)
            .values((event_heads::user_id.eq(user.0), event_heads::last_seq.eq(1_i64)))
            .on_conflict(event_heads::user_id)
            .do_update()
            .set(event_heads::last_seq.eq(event_heads::last_seq + 1_i64))
            .returning(event_heads::last_seq)
            .get_result(conn)
            .await?;
        diesel::insert_into(user_events::table)
            .values((
                user_events::user_id.eq(user.0),
                user_events::seq.eq(seq),
                user_events::at.eq(at),
                user_events::payload.eq(payload.as_str()),
                user_events::message_id.eq(event.message_id().map(|m| m.0)),
            ))
            .execute(conn)
            .await?;
        appended.push(StreamEvent {
            user_id: user,
            seq: u64::try_from(seq).map_err(|_| DbError::Corrupt("event_heads"))?,
            at,
            event,
        });
    }
    notify_appended(conn, origin, &appended).await?;
    Ok(appended)
}

/// Blanks the body and subject kept in stream entries about a message deleted for everyone, in
/// the delete's transaction: a device that replays its stream later gets the entries (their
/// numbers stay) but not what was said.
async fn redact_stream_entries(conn: &mut Conn, message: i64) -> Result<(), DbError> {
    let rows: Vec<(i64, i64, String)> = user_events::table
        .filter(user_events::message_id.eq(message))
        .order((user_events::user_id, user_events::seq))
        .select((user_events::user_id, user_events::seq, user_events::payload))
        .load(conn)
        .await?;
    for (user, seq, payload) in rows {
        let mut event = crate::stored_event::decode(&payload)?;
        if event.redact() {
            let payload = crate::stored_event::encode(&event)?;
            diesel::update(user_events::table.find((user, seq)))
                .set(user_events::payload.eq(payload))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

async fn latest_seq(conn: &mut Conn, user: i64) -> Result<i64, DbError> {
    Ok(event_heads::table
        .find(user)
        .select(event_heads::last_seq)
        .first(conn)
        .await
        .optional()?
        .unwrap_or(0))
}

port! {
impl EventLog for Db {
    async fn events_after(
        &self,
        user: UserId,
        after: StreamSeq,
        limit: u32,
    ) -> Result<Replay, StoreError> {
        let mut conn = self.conn().await?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let latest = latest_seq(&mut conn, user.0).await?;
        if after >= latest {
            // Nothing newer, or a position this stream never reached (another database, a reset).
            return Ok(if after == latest {
                Replay::Events(Vec::new())
            } else {
                Replay::Resync {
                    latest: latest.unsigned_abs(),
                }
            });
        }
        let rows: Vec<(i64, DateTime<Utc>, String)> = user_events::table
            .filter(user_events::user_id.eq(user.0))
            .filter(user_events::seq.gt(after))
            .order(user_events::seq.asc())
            .limit(i64::from(limit.max(1)))
            .select((user_events::seq, user_events::at, user_events::payload))
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        // The next entry must be the one right after `after`; if it was pruned, so was the gap.
        if rows.as_slice().first().is_none_or(|(seq, _, _)| *seq != after + 1) {
            return Ok(Replay::Resync {
                latest: latest.unsigned_abs(),
            });
        }
        let mut events = Vec::with_capacity(rows.len());
        for (seq, at, payload) in rows {
            let event = crate::stored_event::decode(&payload)?;
            events.push(StreamEvent {
                user_id: user,
                seq: seq.unsigned_abs(),
                at,
                event: std::sync::Arc::new(event),
            });
        }
        Ok(Replay::Events(events))
    }

    async fn latest_seq(&self, user: UserId) -> Result<StreamSeq, StoreError> {
        let mut conn = self.conn().await?;
        Ok(latest_seq(&mut conn, user.0).await?.unsigned_abs())
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut conn = self.conn().await?;
        let removed = Sql::delete_events_before(&mut conn, before).await?;
        Ok(removed as u64)
    }
}
}

impl Db {
    pub async fn latest_seqs(&self, users: &[UserId]) -> Result<Vec<(UserId, StreamSeq)>, StoreError> {
        let mut conn = self.conn().await?;
        let mut found = Vec::with_capacity(users.len());
        // In chunks, so that no statement carries more parameters than SQLite allows.
        for chunk in users.chunks(500) {
            let ids: Vec<i64> = chunk.iter().map(|u| u.0).collect();
            let rows: Vec<(i64, i64)> = event_heads::table
                .filter(event_heads::user_id.eq_any(ids))
                .select((event_heads::user_id, event_heads::last_seq))
                .load(&mut *conn)
                .await
                .map_err(DbError::from)?;
            found.extend(rows.into_iter().map(|(u, s)| (UserId(u), s.unsigned_abs())));
        }
        Ok(found)
    }
}
