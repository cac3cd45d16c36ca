//! Finding people: whom a user may start a conversation with (the directory), a clinician's
//! patients (System B's patient list), the admins' user list, and the caller's own account.
//!
//! The directory follows the contact rules ([`crate::contact`]) but is narrower on purpose: it
//! lists only people the caller already has a reason to write to, so that nobody can use it to
//! list the members of the service.
//! - A student finds the tutors they share a booking with (any state but cancelled), and a tutor
//!   the students.
//! - A clinician finds the patients assigned to them.
//! - A patient finds nobody: patients do not start conversations with clinicians (they reply).
//! - An admin finds anyone.
//!
//! Inactive users and the caller are never listed.

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::error::{StoreError, ValidationError};
use crate::message::MessageId;
use crate::ports::{People, PeopleSearch, PresenceSettings};
use crate::service::actor::Actor;
use crate::text::Page;
use crate::user::{Role, User, UserId, UserSummary};

#[cfg(test)]
mod tests;

/// Who a directory search may return, decided by [`directory_scope`] from the caller alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryScope {
    /// Every active user except this one (the caller, an admin).
    EveryoneBut(UserId),
    /// Active tutors who share a booking that is not cancelled with this student.
    TutorsBookedWith(UserId),
    /// Active students who share a booking that is not cancelled with this tutor.
    StudentsBookedWith(UserId),
    /// Active patients assigned to this clinician.
    PatientsAssignedTo(UserId),
    /// Nobody.
    Nobody,
}

/// The directory rule: whom `caller` may look up to start a conversation with.
#[must_use]
pub fn directory_scope(caller: &User) -> DirectoryScope {
    if !caller.is_active {
        return DirectoryScope::Nobody;
    }
    match caller.role {
        Role::Admin => DirectoryScope::EveryoneBut(caller.id),
        Role::Student => DirectoryScope::TutorsBookedWith(caller.id),
        Role::Tutor => DirectoryScope::StudentsBookedWith(caller.id),
        Role::Clinician => DirectoryScope::PatientsAssignedTo(caller.id),
        Role::Patient => DirectoryScope::Nobody,
    }
}

/// Words to find in a name, user name (or, for admins, an email address): one line, at most 100
/// characters; matched case-insensitively as a substring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameQuery(String);

impl NameQuery {
    /// Cleans `raw`; an empty or missing query is `None` (list without filtering).
    ///
    /// # Errors
    /// [`ValidationError::TooLong`] for the field `q`.
    pub fn parse(raw: Option<&str>) -> Result<Option<Self>, ValidationError> {
        let text = crate::text::clean_single_line(raw.unwrap_or(""));
        if text.chars().count() > 100 {
            return Err(ValidationError::TooLong {
                field: "q",
                max: 100,
            });
        }
        Ok((!text.is_empty()).then(|| Self(text.to_lowercase())))
    }

    /// The lower-cased words.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The newest message between a clinician and a patient, as the patient list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastMessage {
    /// The message.
    pub id: MessageId,
    /// Who sent it.
    pub sender_id: UserId,
    /// Its body (the caller may see it: it is in their own conversation).
    pub body: String,
    /// Its subject, if any.
    pub subject: Option<String>,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
}

/// One assigned patient with the state of their conversation with the clinician.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientSummary {
    /// The patient.
    pub patient: UserSummary,
    /// The newest message of their conversation the clinician can see, if any.
    pub last_message: Option<LastMessage>,
    /// Messages from the patient the clinician has not read.
    pub unread_count: i64,
}

/// Narrows the admins' user list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Words in the user name, name or email address.
    pub query: Option<NameQuery>,
    /// Only this role.
    pub role: Option<Role>,
}

/// The caller's own account, as `GET /api/me` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    /// The account (their own email address included).
    pub user: User,
    /// Whether they hide their presence.
    pub presence_hidden: bool,
}

/// Why a people use case refused.
#[derive(Debug, Error)]
pub enum PeopleError {
    /// The caller's account is unknown or deactivated.
    #[error("this account is not active")]
    AccountInactive,
    /// The patient list is for clinicians.
    #[error("only clinicians have patients")]
    ClinicianOnly,
    /// The user list is for admins.
    #[error("admins only")]
    AdminOnly,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How many people one directory search returns at most.
pub const DIRECTORY_LIMIT: u32 = 50;

/// The people use cases.
#[derive(Debug)]
pub struct PeopleService<Q, P, S> {
    search: Q,
    people: P,
    presence: S,
}

impl<Q, P, S> PeopleService<Q, P, S>
where
    Q: PeopleSearch,
    P: People,
    S: PresenceSettings,
{
    /// Builds the service over its ports.
    pub fn new(search: Q, people: P, presence: S) -> Self {
        Self {
            search,
            people,
            presence,
        }
    }

    /// The caller's own account and settings.
    ///
    /// # Errors
    /// [`PeopleError::AccountInactive`] for an unknown or deactivated caller.
    pub async fn me(&self, actor: &Actor) -> Result<Me, PeopleError> {
        let user = self.caller(actor).await?;
        let presence_hidden = self.presence.presence_hidden(user.id).await?;
        Ok(Me {
            user,
            presence_hidden,
        })
    }

    /// The people the caller may start a conversation with whose name contains `query`.
    ///
    /// # Errors
    /// [`PeopleError::AccountInactive`] for an unknown or deactivated caller.
    pub async fn directory(
        &self,
        actor: &Actor,
        query: Option<NameQuery>,
    ) -> Result<Vec<UserSummary>, PeopleError> {
        let caller = self.caller(actor).await?;
        match directory_scope(&caller) {
            DirectoryScope::Nobody => Ok(Vec::new()),
            scope => {
                let found = self
                    .search
                    .find_people(scope, query, DIRECTORY_LIMIT)
                    .await?;
                // Other people's names are masked like everything else they wrote for others.
                Ok(found.iter().map(|face| face.seen_by(caller.id)).collect())
            }
        }
    }

    /// System B's patient list: the clinician's assigned patients with their last message and
    /// unread count.
    ///
    /// # Errors
    /// [`PeopleError::ClinicianOnly`] unless the caller is an active clinician.
    pub async fn clinician_patients(
        &self,
        actor: &Actor,
    ) -> Result<Vec<PatientSummary>, PeopleError> {
        let caller = self.caller(actor).await?;
        if caller.role != Role::Clinician {
            return Err(PeopleError::ClinicianOnly);
        }
        let patients = self.search.assigned_patients(caller.id).await?;
        Ok(patients
            .into_iter()
            .map(|p| PatientSummary {
                patient: p.patient.seen_by(caller.id),
                ..p
            })
            .collect())
    }

    /// The admins' user list.
    ///
    /// # Errors
    /// [`PeopleError::AdminOnly`] unless the caller is an active admin (the role in the
    /// directory decides, not the one in the caller's token).
    pub async fn users(
        &self,
        actor: &Actor,
        filter: UserFilter,
        page: Page,
    ) -> Result<Vec<User>, PeopleError> {
        let caller = self.caller(actor).await?;
        if caller.role != Role::Admin {
            return Err(PeopleError::AdminOnly);
        }
        Ok(self.search.list_users(filter, page).await?)
    }

    async fn caller(&self, actor: &Actor) -> Result<User, PeopleError> {
        match self.people.user(actor.user_id).await? {
            Some(user) if user.is_active => Ok(user),
            _ => Err(PeopleError::AccountInactive),
        }
    }
}
