// What admins change: accounts, bookings and care assignments, each with its audit record in one
// transaction.

impl Db {
    /// Activates, deactivates or re-roles an account (the port's two account changes, and the
    /// seeder's).
    pub async fn admin_set_user(
        &self,
        user: UserId,
        active: Option<bool>,
        role: Option<Role>,
        audit: AuditRecord,
    ) -> Result<User, StoreError> {
        let mut conn = self.conn().await?;
        let row = conn
            .transaction::<_, DbError, _>(async move |conn| {
                let target = users::table.find(user.0);
                let row: UserRow = match (active, role) {
                    (Some(false), _) => {
                        // Nothing issued before a deactivation may work again, not even after a
                        // reactivation: the version goes up and every credential is revoked.
                        let row = diesel::update(target)
                            .set((
                                users::is_active.eq(false),
                                users::credential_version.eq(users::credential_version + 1),
                            ))
                            .returning(UserRow::as_returning())
                            .get_result(conn)
                            .await?;
                        revoke_credentials(conn, user, None, audit.at).await?;
                        row
                    }
                    (Some(true), _) => diesel::update(target)
                        .set(users::is_active.eq(true))
                        .returning(UserRow::as_returning())
                        .get_result(conn)
                        .await?,
                    (None, Some(role)) => diesel::update(target)
                        .set(users::role.eq(role.as_str()))
                        .returning(UserRow::as_returning())
                        .get_result(conn)
                        .await?,
                    (None, None) => target.select(UserRow::as_select()).first(conn).await?,
                };
                insert_audit(conn, &audit).await?;
                Ok(row)
            })
            .await?;
        Ok(row.into_user()?.0)
    }
}

port! {
impl Administration for Db {
    async fn set_user_active(
        &self,
        user: UserId,
        active: bool,
        audit: AuditRecord,
    ) -> Result<User, StoreError> {
        self.admin_set_user(user, Some(active), None, audit).await
    }

    async fn set_user_role(
        &self,
        user: UserId,
        role: Role,
        audit: AuditRecord,
    ) -> Result<User, StoreError> {
        self.admin_set_user(user, None, Some(role), audit).await
    }

    async fn create_booking(
        &self,
        student: UserId,
        tutor: UserId,
        state: BookingState,
        audit: AuditRecord,
    ) -> Result<Booking, StoreError> {
        let mut conn = self.conn().await?;
        let row = conn
            .transaction::<_, DbError, _>(async move |conn| {
                let row: BookingRow = diesel::insert_into(bookings::table)
                    .values((
                        bookings::student_id.eq(student.0),
                        bookings::tutor_id.eq(tutor.0),
                        bookings::state.eq(state.as_str()),
                        bookings::created_at.eq(audit.at),
                    ))
                    .returning(BookingRow::as_returning())
                    .get_result(conn)
                    .await?;
                let mut audit = audit;
                audit.object_id = Some(row.id);
                insert_audit(conn, &audit).await?;
                Ok(row)
            })
            .await?;
        Ok(row.into_booking()?)
    }

    async fn set_booking_state(
        &self,
        booking: BookingId,
        state: BookingState,
        audit: AuditRecord,
    ) -> Result<Booking, StoreError> {
        let mut conn = self.conn().await?;
        let row = conn
            .transaction::<_, DbError, _>(async move |conn| {
                let row: BookingRow = diesel::update(bookings::table.find(booking.0))
                    .set(bookings::state.eq(state.as_str()))
                    .returning(BookingRow::as_returning())
                    .get_result(conn)
                    .await?;
                insert_audit(conn, &audit).await?;
                Ok(row)
            })
            .await?;
        Ok(row.into_booking()?)
    }

    async fn set_assignment(
        &self,
        clinician: UserId,
        patient: UserId,
        assigned: bool,
        audit: AuditRecord,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let changed = conn
            .transaction::<_, DbError, _>(async move |conn| {
                let pair = care_assignments::table
                    .filter(care_assignments::clinician_id.eq(clinician.0))
                    .filter(care_assignments::patient_id.eq(patient.0));
                // An unassignment ends the row rather than deleting it: that the two were once
                // assigned is a fact the contact rules use.
                let changed = if assigned {
                    let renewed = diesel::update(pair.filter(care_assignments::ended_at.is_not_null()))
                        .set((
                            care_assignments::ended_at.eq(None::<DateTime<Utc>>),
                            care_assignments::created_at.eq(audit.at),
                        ))
                        .execute(conn)
                        .await?;
                    renewed
                        + diesel::insert_into(care_assignments::table)
                            .values((
                                care_assignments::clinician_id.eq(clinician.0),
                                care_assignments::patient_id.eq(patient.0),
                                care_assignments::created_at.eq(audit.at),
                            ))
                            .on_conflict_do_nothing()
                            .execute(conn)
                            .await?
                } else {
                    diesel::update(pair.filter(care_assignments::ended_at.is_null()))
                        .set(care_assignments::ended_at.eq(Some(audit.at)))
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
