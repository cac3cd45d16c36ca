//! Who may message whom.
//!
//! - Admins may message anyone, and anyone may message an admin.
//! - The tutoring side (students, tutors) and the clinical side (patients, clinicians) never mix.
//! - A clinician may message a patient only when assigned to them.
//! - A patient may not start a conversation with a clinician, but may reply in one the clinician
//!   started.
//! - Blocked users cannot message each other, whichever of the two blocked.
//! - Unknown, inactive and self recipients all get one identical refusal, so that ids cannot be probed.

use thiserror::Error;

use crate::user::{BlockState, Role, User};

#[cfg(test)]
mod tests;

/// Why a message may not go from one user to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ContactRefusal {
    /// The recipient is unknown, inactive, the sender themselves, or has blocked the sender. One
    /// variant for all of these, so that a caller cannot tell them apart.
    #[error("Cannot send message to this recipient")]
    RecipientUnavailable,
    /// The sender has blocked the recipient; they must unblock first.
    #[error("You have blocked this user")]
    RecipientBlockedBySender,
    /// A clinician tried to message a patient not assigned to them.
    #[error("Not assigned to this patient")]
    NotAssigned,
    /// A patient tried to start a conversation with a clinician.
    #[error("Patients cannot start a conversation with a clinician")]
    PatientCannotInitiate,
    /// The two users' roles may not message each other at all.
    #[error("These users cannot message each other")]
    NotAllowed,
}

/// What the rules need to know about the pair, beyond the two users themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContactFacts {
    /// Blocks between sender (first) and recipient (second).
    pub blocks: BlockState,
    /// The recipient patient is assigned to the sender clinician (only asked for that pair).
    pub clinician_assigned: bool,
    /// A conversation between the two was started by the recipient clinician (only asked when a
    /// patient writes to a clinician).
    pub started_by_clinician: bool,
}

/// Which facts [`check_contact`] needs for this pair, so that callers only look up those.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactsNeeded {
    /// Whether to look up the clinician-patient assignment.
    pub assignment: bool,
    /// Whether to look up who started the pair's conversations.
    pub started_by: bool,
}

/// Says which facts [`check_contact`] will read for a sender and recipient.
#[must_use]
pub fn facts_needed(sender: &User, recipient: &User) -> FactsNeeded {
    FactsNeeded {
        assignment: sender.role == Role::Clinician && recipient.role == Role::Patient,
        started_by: sender.role == Role::Patient && recipient.role == Role::Clinician,
    }
}

/// Resolves a looked-up recipient: missing, inactive and self all become the same refusal.
///
/// # Errors
/// [`ContactRefusal::RecipientUnavailable`].
pub fn resolve_recipient(sender: &User, recipient: Option<User>) -> Result<User, ContactRefusal> {
    match recipient {
        Some(user) if user.is_active && user.id != sender.id => Ok(user),
        _ => Err(ContactRefusal::RecipientUnavailable),
    }
}

/// Decides whether `sender` may message `recipient`, given the facts about the pair.
///
/// # Errors
/// The [`ContactRefusal`] for the first rule that stops the message.
pub fn check_contact(
    sender: &User,
    recipient: &User,
    facts: &ContactFacts,
) -> Result<(), ContactRefusal> {
    if !recipient.is_active || recipient.id == sender.id {
        return Err(ContactRefusal::RecipientUnavailable);
    }
    // A block by the recipient is indistinguishable from an unknown recipient; the sender's own
    // block is reported plainly, since they made it.
    if facts.blocks.second_blocked_first {
        return Err(ContactRefusal::RecipientUnavailable);
    }
    if facts.blocks.first_blocked_second {
        return Err(ContactRefusal::RecipientBlockedBySender);
    }
    if sender.role == Role::Admin || recipient.role == Role::Admin {
        return Ok(());
    }
    if sender.role.population() != recipient.role.population() {
        return Err(ContactRefusal::NotAllowed);
    }
    match (sender.role, recipient.role) {
        (Role::Clinician, Role::Patient) if !facts.clinician_assigned => {
            Err(ContactRefusal::NotAssigned)
        }
        (Role::Patient, Role::Clinician) if !facts.started_by_clinician => {
            Err(ContactRefusal::PatientCannotInitiate)
        }
        _ => Ok(()),
    }
}
