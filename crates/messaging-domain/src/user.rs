//! Users, their roles, and the bookings and assignments that relate them.

use chrono::{DateTime, Utc};

/// A user's identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UserId(pub i64);

/// A booking's identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BookingId(pub i64);

/// What a user is; it decides message length limits and who they may contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Role {
    /// A learner on the tutoring side.
    Student,
    /// A teacher on the tutoring side.
    Tutor,
    /// A person receiving care on the clinical side.
    Patient,
    /// A care professional on the clinical side.
    Clinician,
    /// Staff who may message anyone.
    Admin,
}

impl Role {
    /// Every role, in a fixed order.
    pub const ALL: [Role; 5] = [
        Role::Student,
        Role::Tutor,
        Role::Patient,
        Role::Clinician,
        Role::Admin,
    ];

    /// The role's stable lower-case name, as stored and as the API spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Tutor => "tutor",
            Role::Patient => "patient",
            Role::Clinician => "clinician",
            Role::Admin => "admin",
        }
    }

    /// Parses a stored or submitted role name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The tutoring side (students and tutors) and the clinical side (patients and clinicians) are
    /// two populations that share this service but never message each other; admins belong to both.
    #[must_use]
    pub(crate) fn population(self) -> Population {
        match self {
            Role::Student | Role::Tutor => Population::Tutoring,
            Role::Patient | Role::Clinician => Population::Clinical,
            Role::Admin => Population::Staff,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Population {
    Tutoring,
    Clinical,
    Staff,
}

/// A user as the directory knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// The unique login name.
    pub username: String,
    /// The email address; never shown to other users.
    pub email: String,
    /// Given name, possibly empty.
    pub first_name: String,
    /// Family name, possibly empty.
    pub last_name: String,
    /// What the user is.
    pub role: Role,
    /// Inactive users can neither send nor receive.
    pub is_active: bool,
}

impl User {
    /// What other users may see of this user: no email address.
    #[must_use]
    pub fn summary(&self) -> UserSummary {
        UserSummary {
            id: self.id,
            username: self.username.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            role: self.role,
        }
    }
}

/// The public face of a user, safe to show to anyone they talk to. It has no email field on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UserSummary {
    /// The user's id.
    pub id: UserId,
    /// The unique login name.
    pub username: String,
    /// Given name, possibly empty.
    pub first_name: String,
    /// Family name, possibly empty.
    pub last_name: String,
    /// What the user is.
    pub role: Role,
}

impl UserSummary {
    /// This face as `viewer` may see it. A display name is text its owner typed for others to
    /// read, so it must not carry contact details either: shown to anyone else, the first and
    /// last names are masked with the same rule as message bodies ([`crate::masking::mask_pii`]).
    /// The owner sees their own name as typed.
    ///
    /// Names are masked when read, not when written: the stored name stays what the user typed
    /// (their own profile and the admins show it), names stored before the rule existed are
    /// covered, and a change to the rule applies to every name at once. Unlike a body, a name is
    /// masked whether or not the two share a booking: it is shown to everyone the user talks to,
    /// and a booking is the place to exchange details, not a name.
    #[must_use]
    pub fn seen_by(&self, viewer: UserId) -> UserSummary {
        if viewer == self.id {
            return self.clone();
        }
        UserSummary {
            first_name: crate::masking::mask_pii(&self.first_name),
            last_name: crate::masking::mask_pii(&self.last_name),
            ..self.clone()
        }
    }
}

/// Where a booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum BookingState {
    /// Asked for, not yet accepted.
    Requested,
    /// Accepted and planned.
    Scheduled,
    /// Under way.
    Active,
    /// Took place.
    Ended,
    /// Called off.
    Cancelled,
}

impl BookingState {
    /// Every state, in a fixed order.
    pub const ALL: [BookingState; 5] = [
        BookingState::Requested,
        BookingState::Scheduled,
        BookingState::Active,
        BookingState::Ended,
        BookingState::Cancelled,
    ];

    /// The state's stable lower-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            BookingState::Requested => "requested",
            BookingState::Scheduled => "scheduled",
            BookingState::Active => "active",
            BookingState::Ended => "ended",
            BookingState::Cancelled => "cancelled",
        }
    }

    /// Parses a stored or submitted state name.
    #[must_use]
    pub fn parse(name: &str) -> Option<BookingState> {
        BookingState::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether a booking in this state lets its two parties see each other's contact details.
    #[must_use]
    pub fn reveals_contact_details(self) -> bool {
        matches!(
            self,
            BookingState::Scheduled | BookingState::Active | BookingState::Ended
        )
    }
}

/// A booking between two users (on the tutoring side: a student and a tutor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// The booking's id.
    pub id: BookingId,
    /// One party (the student, by convention).
    pub student_id: UserId,
    /// The other party (the tutor, by convention).
    pub tutor_id: UserId,
    /// Where the booking stands.
    pub state: BookingState,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl Booking {
    /// Whether this booking is between exactly these two users, in either order.
    #[must_use]
    pub fn is_between(&self, a: UserId, b: UserId) -> bool {
        (self.student_id == a && self.tutor_id == b) || (self.student_id == b && self.tutor_id == a)
    }
}

/// Where a clinician and a patient stand with each other: whether the patient is assigned to the
/// clinician now, was once, or never was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum CareAssignment {
    /// Never assigned.
    #[default]
    Never,
    /// Assigned once, unassigned since.
    Former,
    /// Assigned now.
    Current,
}

/// Who has blocked whom between two users.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockState {
    /// The first user blocked the second.
    pub first_blocked_second: bool,
    /// The second user blocked the first.
    pub second_blocked_first: bool,
}

/// Decides whether contact details must be masked between two users: they stay hidden unless the two
/// share a booking, in a state that reveals them, that belongs to both of them.
#[must_use]
pub fn must_mask_between(a: UserId, b: UserId, bookings: &[Booking]) -> bool {
    !bookings
        .iter()
        .any(|booking| booking.is_between(a, b) && booking.state.reveals_contact_details())
}
