//! People and what relates them: bookings, care assignments, blocks, presence settings, what
//! admins change, the directory and the admins' lists, and reports of messages.

use chrono::{DateTime, Utc};
use messaging_domain::StoreError;
use messaging_domain::audit::AuditRecord;
use messaging_domain::message::{NewReport, Report};
use messaging_domain::people::{
    DirectoryScope, LastMessage, NameQuery, PatientSummary, UserFilter,
};
use messaging_domain::text::Page;
use messaging_domain::user::{
    BlockState, Booking, BookingId, BookingState, CareAssignment, Role, User, UserId, UserSummary,
};

use crate::listings::paged;
use crate::state::{CareRow, State, missing};

impl State {
    /// Several users by id, in id order; unknown ids are left out.
    pub(crate) fn users(&self, ids: &[UserId]) -> Vec<User> {
        let mut users: Vec<User> = ids
            .iter()
            .filter_map(|id| self.users.get(id))
            .map(|a| a.user.clone())
            .collect();
        users.sort_by_key(|u| u.id);
        users.dedup_by_key(|u| u.id);
        users
    }

    /// Every booking between two users, in either role.
    pub(crate) fn bookings_between(&self, a: UserId, b: UserId) -> Vec<Booking> {
        self.bookings
            .values()
            .filter(|booking| booking.is_between(a, b))
            .cloned()
            .collect()
    }

    /// Whether `patient` is assigned to `clinician` now, was once, or never was.
    pub(crate) fn care_assignment(&self, clinician: UserId, patient: UserId) -> CareAssignment {
        match self.care.get(&(clinician, patient)) {
            None => CareAssignment::Never,
            Some(CareRow { ended_at: None }) => CareAssignment::Current,
            Some(CareRow { ended_at: Some(_) }) => CareAssignment::Former,
        }
    }

    /// Everyone `user` shares a conversation with and has no block with, in id order.
    pub(crate) fn conversation_partners(&self, user: UserId) -> Vec<UserId> {
        let mut partners: Vec<UserId> = self
            .by_member
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|id| self.conversations.get(id))
            .map(|c| {
                if c.conversation.user_low == user {
                    c.conversation.user_high
                } else {
                    c.conversation.user_low
                }
            })
            .filter(|&p| {
                !self
                    .blocks
                    .iter()
                    .any(|&(a, b)| (a == p && b == user) || (a == user && b == p))
            })
            .collect();
        partners.sort();
        partners.dedup();
        partners
    }

    /// Who has blocked whom between `first` and `second`.
    pub(crate) fn blocks_between(&self, first: UserId, second: UserId) -> BlockState {
        BlockState {
            first_blocked_second: self.blocks.contains(&(first, second)),
            second_blocked_first: self.blocks.contains(&(second, first)),
        }
    }

    /// Records or lifts a block; audited only when it changed something.
    pub(crate) fn set_block(
        &mut self,
        blocker: UserId,
        blocked: UserId,
        on: bool,
        audit: AuditRecord,
    ) -> Result<bool, StoreError> {
        let changed = if on {
            self.require_user(blocker)?;
            self.require_user(blocked)?;
            self.blocks.insert((blocker, blocked))
        } else {
            self.blocks.remove(&(blocker, blocked))
        };
        if changed {
            self.audit(audit);
        }
        Ok(changed)
    }

    /// Hides or shows a user's presence; returns whether it changed.
    pub(crate) fn set_presence_hidden(&mut self, user: UserId, hidden: bool) -> bool {
        let before = self.presence_hidden.insert(user, hidden).unwrap_or(false);
        before != hidden
    }

    /// Activates or deactivates an account; deactivating raises its credential version and
    /// revokes everything issued to it.
    pub(crate) fn set_user_active(
        &mut self,
        user: UserId,
        active: bool,
        audit: AuditRecord,
    ) -> Result<User, StoreError> {
        let account = self.users.get_mut(&user).ok_or(StoreError::NotFound)?;
        account.user.is_active = active;
        if !active {
            // Nothing issued before a deactivation may work again, not even after a
            // reactivation.
            account.credential_version += 1;
        }
        let changed = account.user.clone();
        if !active {
            self.revoke_credentials(user, None, audit.at);
        }
        self.audit(audit);
        Ok(changed)
    }

    /// Changes an account's role.
    pub(crate) fn set_user_role(
        &mut self,
        user: UserId,
        role: Role,
        audit: AuditRecord,
    ) -> Result<User, StoreError> {
        let account = self.users.get_mut(&user).ok_or(StoreError::NotFound)?;
        account.user.role = role;
        let changed = account.user.clone();
        self.audit(audit);
        Ok(changed)
    }

    /// Creates a booking, made at the audit record's time.
    pub(crate) fn create_booking(
        &mut self,
        student: UserId,
        tutor: UserId,
        state: BookingState,
        audit: AuditRecord,
    ) -> Result<Booking, StoreError> {
        self.require_user(student)?;
        self.require_user(tutor)?;
        let id = self.last_id.booking();
        let booking = Booking {
            id,
            student_id: student,
            tutor_id: tutor,
            state,
            created_at: audit.at,
        };
        self.bookings.insert(id, booking.clone());
        self.audit(AuditRecord {
            object_id: Some(id.0),
            ..audit
        });
        Ok(booking)
    }

    /// Moves a booking to another state.
    pub(crate) fn set_booking_state(
        &mut self,
        booking: BookingId,
        state: BookingState,
        audit: AuditRecord,
    ) -> Result<Booking, StoreError> {
        let stored = self
            .bookings
            .get_mut(&booking)
            .ok_or(StoreError::NotFound)?;
        stored.state = state;
        let changed = stored.clone();
        self.audit(audit);
        Ok(changed)
    }

    /// Assigns or unassigns a patient; an unassignment ends the assignment rather than
    /// forgetting it. Returns whether anything changed.
    pub(crate) fn set_assignment(
        &mut self,
        clinician: UserId,
        patient: UserId,
        assigned: bool,
        audit: AuditRecord,
    ) -> Result<bool, StoreError> {
        let at: DateTime<Utc> = audit.at;
        let current = self.care.get(&(clinician, patient)).copied();
        let changed = match (assigned, current) {
            (true, Some(CareRow { ended_at: None })) | (false, None) => false,
            (false, Some(CareRow { ended_at: Some(_) })) => false,
            (true, _) => {
                self.require_user(clinician)?;
                self.require_user(patient)?;
                self.care
                    .insert((clinician, patient), CareRow { ended_at: None });
                true
            }
            (false, Some(CareRow { ended_at: None })) => {
                self.care
                    .insert((clinician, patient), CareRow { ended_at: Some(at) });
                true
            }
        };
        if changed {
            self.audit(audit);
        }
        Ok(changed)
    }

    /// Active users in `scope` whose name or login contains `query`, ordered by name.
    pub(crate) fn find_people(
        &self,
        scope: DirectoryScope,
        query: Option<&NameQuery>,
        limit: u32,
    ) -> Vec<UserSummary> {
        let in_scope = |user: &User| match scope {
            DirectoryScope::Nobody => false,
            DirectoryScope::EveryoneBut(me) => user.id != me,
            DirectoryScope::TutorsBookedWith(student) => {
                user.role == Role::Tutor && self.booked(student, user.id)
            }
            DirectoryScope::StudentsBookedWith(tutor) => {
                user.role == Role::Student && self.booked(user.id, tutor)
            }
            DirectoryScope::PatientsAssignedTo(clinician) => {
                user.role == Role::Patient
                    && self.care_assignment(clinician, user.id) == CareAssignment::Current
            }
        };
        let mut found: Vec<&User> = self
            .users
            .values()
            .map(|a| &a.user)
            .filter(|u| u.is_active && in_scope(u))
            .filter(|u| query.is_none_or(|q| name_matches(u, q, false)))
            .collect();
        found.sort_by_key(|u| name_order(u));
        found
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(User::summary)
            .collect()
    }

    /// Whether a student and a tutor share a booking that was not cancelled.
    fn booked(&self, student: UserId, tutor: UserId) -> bool {
        self.bookings.values().any(|b| {
            b.student_id == student && b.tutor_id == tutor && b.state != BookingState::Cancelled
        })
    }

    /// A clinician's current, active patients, ordered by name, each with the clinician's
    /// thread with them (the one without a booking): its newest visible message and unread
    /// count.
    pub(crate) fn assigned_patients(&self, clinician: UserId) -> Vec<PatientSummary> {
        let mut patients: Vec<&User> = self
            .users
            .values()
            .map(|a| &a.user)
            .filter(|u| u.is_active && u.role == Role::Patient)
            .filter(|u| self.care_assignment(clinician, u.id) == CareAssignment::Current)
            .collect();
        patients.sort_by_key(|u| name_order(u));
        patients
            .into_iter()
            .map(|patient| {
                let thread = self
                    .member_conversations(clinician, patient.id, None)
                    .into_iter()
                    .find(|id| {
                        self.conversations
                            .get(id)
                            .is_some_and(|c| c.conversation.booking_id.is_none())
                    });
                let last = thread
                    .and_then(|id| self.last_visible(id, clinician))
                    .map(|m| LastMessage {
                        id: m.id,
                        sender_id: m.sender_id,
                        body: m.body.clone(),
                        subject: m.subject.clone(),
                        created_at: m.created_at,
                    });
                PatientSummary {
                    patient: patient.summary(),
                    last_message: last,
                    unread_count: thread.map_or(0, |id| self.unread_in(id, clinician)),
                }
            })
            .collect()
    }

    /// The admins' user list: by id, filtered by words (in the login, address or name) and role.
    pub(crate) fn list_users(&self, filter: &UserFilter, page: Page) -> Vec<User> {
        let users = self
            .users
            .values()
            .map(|a| &a.user)
            .filter(|u| filter.role.is_none_or(|r| u.role == r))
            .filter(|u| {
                filter
                    .query
                    .as_ref()
                    .is_none_or(|q| name_matches(u, q, true))
            })
            .cloned();
        paged(users, page.offset(), page.limit())
    }

    /// Stores a report.
    pub(crate) fn insert_report(
        &mut self,
        report: NewReport,
        audit: AuditRecord,
    ) -> Result<Report, StoreError> {
        self.require_user(report.reporter_id)?;
        if !self.messages.contains_key(&report.message_id) {
            return Err(missing("no such message"));
        }
        let stored = Report {
            id: self.last_id.report(),
            reporter_id: report.reporter_id,
            message_id: report.message_id,
            reason: report.reason,
            created_at: report.created_at,
        };
        self.reports.insert(stored.id, stored.clone());
        self.audit(audit);
        Ok(stored)
    }

    /// Reports, newest first.
    pub(crate) fn reports(&self, page: Page) -> Vec<Report> {
        paged(
            self.reports.values().rev().cloned(),
            page.offset(),
            page.limit(),
        )
    }
}

/// Whether the user's login or full name (and, for admins, address) contains the query, which
/// is lower-case already.
fn name_matches(user: &User, query: &NameQuery, with_email: bool) -> bool {
    let q = query.as_str();
    let full_name = format!("{} {}", user.first_name, user.last_name).to_lowercase();
    user.username.to_lowercase().contains(q)
        || full_name.contains(q)
        || (with_email && user.email.to_lowercase().contains(q))
}

/// The directory's order: first name, last name (case-insensitively), then login.
fn name_order(user: &User) -> (String, String, String) {
    (
        user.first_name.to_lowercase(),
        user.last_name.to_lowercase(),
        user.username.clone(),
    )
}
