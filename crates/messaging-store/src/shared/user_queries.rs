// Users, bookings, care assignments and conversation partners (the `People` port), and blocks
// (`Blocks`), for both backends.

port! {
impl People for Db {
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let mut conn = self.conn().await?;
        let row = users::table
            .find(id.0)
            .select(UserRow::as_select())
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(row.map(UserRow::into_user).transpose()?.map(|(u, _)| u))
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self.credentials(username).await?.map(|(u, _)| u))
    }

    async fn users(&self, ids: Vec<UserId>) -> Result<Vec<User>, StoreError> {
        let mut conn = self.conn().await?;
        let ids: Vec<i64> = ids.into_iter().map(|id| id.0).collect();
        let rows = users::table
            .filter(users::id.eq_any(ids))
            .select(UserRow::as_select())
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(rows
            .into_iter()
            .map(|r| r.into_user().map(|(u, _)| u))
            .collect::<Result<_, _>>()?)
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        let mut conn = self.conn().await?;
        let row = bookings::table
            .find(id.0)
            .select(BookingRow::as_select())
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(row.map(BookingRow::into_booking).transpose()?)
    }

    async fn bookings_between(&self, a: UserId, b: UserId) -> Result<Vec<Booking>, StoreError> {
        let mut conn = self.conn().await?;
        let rows = bookings::table
            .filter(
                bookings::student_id
                    .eq(a.0)
                    .and(bookings::tutor_id.eq(b.0))
                    .or(bookings::student_id.eq(b.0).and(bookings::tutor_id.eq(a.0))),
            )
            .select(BookingRow::as_select())
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(rows
            .into_iter()
            .map(BookingRow::into_booking)
            .collect::<Result<_, _>>()?)
    }

    async fn care_assignment(
        &self,
        clinician: UserId,
        patient: UserId,
    ) -> Result<CareAssignment, StoreError> {
        let mut conn = self.conn().await?;
        let found = care_assignments::table
            .filter(care_assignments::clinician_id.eq(clinician.0))
            .filter(care_assignments::patient_id.eq(patient.0))
            .select(care_assignments::ended_at)
            .first::<Option<DateTime<Utc>>>(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(match found {
            None => CareAssignment::Never,
            Some(None) => CareAssignment::Current,
            Some(Some(_)) => CareAssignment::Former,
        })
    }

    async fn conversation_partners(&self, user: UserId) -> Result<Vec<UserId>, StoreError> {
        let mut conn = self.conn().await?;
        let partners: Vec<i64> = members::table
            .filter(members::user_id.eq(user.0))
            .select(members::other_user_id)
            .distinct()
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        let blocked: Vec<(i64, i64)> = blocks::table
            .filter(blocks::blocker_id.eq(user.0).or(blocks::blocked_id.eq(user.0)))
            .select((blocks::blocker_id, blocks::blocked_id))
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        let mut partners: Vec<UserId> = partners
            .into_iter()
            .filter(|p| !blocked.iter().any(|(a, b)| a == p || b == p))
            .map(UserId)
            .collect();
        partners.sort();
        Ok(partners)
    }
}
}

port! {
impl Blocks for Db {
    async fn blocks_between(
        &self,
        first: UserId,
        second: UserId,
    ) -> Result<BlockState, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<(i64, i64)> = blocks::table
            .filter(
                blocks::blocker_id
                    .eq(first.0)
                    .and(blocks::blocked_id.eq(second.0))
                    .or(blocks::blocker_id.eq(second.0).and(blocks::blocked_id.eq(first.0))),
            )
            .select((blocks::blocker_id, blocks::blocked_id))
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(BlockState {
            first_blocked_second: rows.iter().any(|r| r.0 == first.0),
            second_blocked_first: rows.iter().any(|r| r.0 == second.0),
        })
    }

    async fn users_and_blocks(
        &self,
        first: UserId,
        second: UserId,
    ) -> Result<(Vec<User>, BlockState), StoreError> {
        // One statement: each user's row carries the two block flags. A block names two existing
        // users (foreign keys), so when neither exists there is no block to miss.
        let blocked = |blocker: UserId, blocked: UserId| {
            diesel::dsl::exists(
                blocks::table
                    .filter(blocks::blocker_id.eq(blocker.0))
                    .filter(blocks::blocked_id.eq(blocked.0)),
            )
        };
        let mut conn = self.conn().await?;
        // `id = $1 OR id = $2`, not `= ANY($1)`: with an array PostgreSQL planned the statement
        // afresh on every send (0.13 ms, four times its run; docs/benchmarks.md); with two
        // plain parameters the plan it makes once fits every call.
        let rows: Vec<(UserRow, bool, bool)> = users::table
            .filter(users::id.eq(first.0).or(users::id.eq(second.0)))
            .select((
                UserRow::as_select(),
                blocked(first, second),
                blocked(second, first),
            ))
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        let blocks = rows.as_slice().first().map_or(BlockState::default(), |r| BlockState {
            first_blocked_second: r.1,
            second_blocked_first: r.2,
        });
        let users = rows
            .into_iter()
            .map(|(row, _, _)| row.into_user().map(|(u, _)| u))
            .collect::<Result<_, _>>()?;
        Ok((users, blocks))
    }

    async fn set_block(
        &self,
        blocker: UserId,
        blocked: UserId,
        on: bool,
        audit: AuditRecord,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let changed = conn
            .transaction::<_, DbError, _>(async move |conn| {
                let changed = if on {
                    diesel::insert_into(blocks::table)
                        .values((
                            blocks::blocker_id.eq(blocker.0),
                            blocks::blocked_id.eq(blocked.0),
                            blocks::created_at.eq(audit.at),
                        ))
                        .on_conflict_do_nothing()
                        .execute(conn)
                        .await?
                } else {
                    diesel::delete(
                        blocks::table
                            .filter(blocks::blocker_id.eq(blocker.0))
                            .filter(blocks::blocked_id.eq(blocked.0)),
                    )
                    .execute(conn)
                    .await?
                };
                if changed > 0 {
                    insert_audit(conn, &audit).await?;
                }
                Ok(changed > 0)
            })
            .await?;
        Ok(changed)
    }
}
}
