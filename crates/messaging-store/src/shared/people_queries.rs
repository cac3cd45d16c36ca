// The directory, the clinician's patient list and the admins' user list (the `PeopleSearch`
// port), for both backends. Included into `pg` and `sqlite` after `db.rs`, whose imports, row
// types and helpers it uses.

use messaging_domain::people::{
    DirectoryScope, LastMessage, NameQuery, PatientSummary, UserFilter,
};
use messaging_domain::ports::PeopleSearch;
use messaging_domain::user::UserSummary;

/// The newest visible message of a clinician's thread with a patient: id, sender, body, subject,
/// time.
type LastMessageColumns = (i64, i64, String, Option<String>, DateTime<Utc>);

/// `%words%` with LIKE's own wildcards escaped, for a case-insensitive substring match.
fn like_pattern(query: &NameQuery) -> String {
    let mut pattern = String::from("%");
    for c in query.as_str().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

port! {
impl PeopleSearch for Db {
    async fn find_people(
        &self,
        scope: DirectoryScope,
        query: Option<NameQuery>,
        limit: u32,
    ) -> Result<Vec<UserSummary>, StoreError> {
        let mut q = users::table
            .filter(users::is_active.eq(true))
            .order((lower(users::first_name), lower(users::last_name), users::username))
            .limit(i64::from(limit))
            .select(UserRow::as_select())
            .into_boxed();
        q = match scope {
            DirectoryScope::Nobody => return Ok(Vec::new()),
            DirectoryScope::EveryoneBut(me) => q.filter(users::id.ne(me.0)),
            DirectoryScope::TutorsBookedWith(student) => q
                .filter(users::role.eq(Role::Tutor.as_str()))
                .filter(
                    users::id.eq_any(
                        bookings::table
                            .filter(bookings::student_id.eq(student.0))
                            .filter(bookings::state.ne(BookingState::Cancelled.as_str()))
                            .select(bookings::tutor_id),
                    ),
                ),
            DirectoryScope::StudentsBookedWith(tutor) => q
                .filter(users::role.eq(Role::Student.as_str()))
                .filter(
                    users::id.eq_any(
                        bookings::table
                            .filter(bookings::tutor_id.eq(tutor.0))
                            .filter(bookings::state.ne(BookingState::Cancelled.as_str()))
                            .select(bookings::student_id),
                    ),
                ),
            DirectoryScope::PatientsAssignedTo(clinician) => q
                .filter(users::role.eq(Role::Patient.as_str()))
                .filter(
                    users::id.eq_any(
                        care_assignments::table
                            .filter(care_assignments::clinician_id.eq(clinician.0))
                            // An ended assignment is kept as history, not as an assignment.
                            .filter(care_assignments::ended_at.is_null())
                            .select(care_assignments::patient_id),
                    ),
                ),
        };
        if let Some(query) = query {
            let pattern = like_pattern(&query);
            q = q.filter(
                lower(users::username)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(users::first_name.concat(" ").concat(users::last_name))
                        .like(pattern)
                        .escape('\\')),
            );
        }
        let mut conn = self.conn().await?;
        let rows = q.load(&mut *conn).await.map_err(DbError::from)?;
        rows.into_iter()
            .map(|row| row.into_user().map(|(u, _)| u.summary()))
            .collect::<Result<_, DbError>>()
            .map_err(StoreError::from)
    }

    async fn assigned_patients(
        &self,
        clinician: UserId,
    ) -> Result<Vec<PatientSummary>, StoreError> {
        let mut conn = self.conn().await?;
        // One query: the assignments, each patient, the clinician's thread row with them (the
        // clinical side has no bookings, so the pair's conversation is the one without), and
        // the newest message of it the clinician can still see.
        let rows: Vec<(UserRow, Option<i32>, Option<LastMessageColumns>)> =
            care_assignments::table
                .inner_join(users::table.on(users::id.eq(care_assignments::patient_id)))
                .left_join(
                    members::table.on(members::user_id
                        .eq(care_assignments::clinician_id)
                        .and(members::other_user_id.eq(care_assignments::patient_id))
                        .and(members::booking_id.is_null())),
                )
                .left_join(
                    messages::table.on(messages::id.nullable().eq(members::last_message_id)),
                )
                .filter(care_assignments::clinician_id.eq(clinician.0))
                .filter(care_assignments::ended_at.is_null())
                .filter(users::is_active.eq(true))
                .filter(users::role.eq(Role::Patient.as_str()))
                .order((lower(users::first_name), lower(users::last_name), users::username))
                .select((
                    UserRow::as_select(),
                    members::unread_count.nullable(),
                    (
                        messages::id,
                        messages::sender_id,
                        messages::body,
                        messages::subject,
                        messages::created_at,
                    )
                        .nullable(),
                ))
                .load(&mut *conn)
                .await
                .map_err(DbError::from)?;
        rows.into_iter()
            .map(|(user, unread, last)| {
                let (user, _) = user.into_user()?;
                Ok(PatientSummary {
                    patient: user.summary(),
                    last_message: last.map(|(id, sender, body, subject, at)| LastMessage {
                        id: MessageId(id),
                        sender_id: UserId(sender),
                        body,
                        subject,
                        created_at: at,
                    }),
                    unread_count: i64::from(unread.unwrap_or(0)),
                })
            })
            .collect::<Result<_, DbError>>()
            .map_err(StoreError::from)
    }

    async fn list_users(
        &self,
        filter: UserFilter,
        page: Page,
    ) -> Result<Vec<User>, StoreError> {
        let mut q = users::table
            .order(users::id)
            .limit(page.limit())
            .offset(page.offset())
            .select(UserRow::as_select())
            .into_boxed();
        if let Some(role) = filter.role {
            q = q.filter(users::role.eq(role.as_str()));
        }
        if let Some(query) = filter.query {
            let pattern = like_pattern(&query);
            q = q.filter(
                lower(users::username)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(users::email).like(pattern.clone()).escape('\\'))
                    .or(lower(users::first_name.concat(" ").concat(users::last_name))
                        .like(pattern)
                        .escape('\\')),
            );
        }
        let mut conn = self.conn().await?;
        let rows = q.load(&mut *conn).await.map_err(DbError::from)?;
        rows.into_iter()
            .map(|row| row.into_user().map(|(u, _)| u))
            .collect::<Result<_, DbError>>()
            .map_err(StoreError::from)
    }
}
}
