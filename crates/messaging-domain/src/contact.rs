//! Who may message whom.
//!
//! - Admins may message anyone, and anyone may message an admin.
//! - The tutoring side (students, tutors) and the clinical side (patients, clinicians) never mix.
//! - A clinician may message a patient only while assigned to them.
//! - A patient may not start a conversation with a clinician, but may reply in one the clinician
//!   started.
//! - Blocked users cannot message each other, whichever of the two blocked.
//!
//! A refusal never tells the sender who exists or what role they have. Unknown, inactive and self
//! recipients, a recipient who blocked the sender, a recipient on the other side of the service,
//! and a clinician or patient the sender has nothing to do with all get one identical refusal,
//! [`ContactRefusal::RecipientUnavailable`]. The two role-specific refusals are kept for a sender
//! who already knows the other party, so that they learn nothing new from them: `NotAssigned` for
//! a clinician who is no longer assigned to the patient (or shares a conversation with them),
//! `PatientCannotInitiate` for a patient writing to their own clinician (assigned now or once, or
//! someone they share a conversation with).

use thiserror::Error;

use crate::user::{BlockState, CareAssignment, Role, User, UserId};

#[cfg(test)]
mod tests;

/// Why a message may not go from one user to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ContactRefusal {
    /// The recipient is unknown, inactive, the sender themselves, has blocked the sender, is on
    /// the other side of the service, or is a clinician or patient the sender has no care
    /// relation or conversation with. One variant for all of these, so that a caller cannot tell
    /// them apart.
    #[error("Cannot send message to this recipient")]
    RecipientUnavailable,
    /// The sender has blocked the recipient; they must unblock first.
    #[error("You have blocked this user")]
    RecipientBlockedBySender,
    /// A clinician wrote to a patient they were once assigned to (or share a conversation with)
    /// but are not assigned to now.
    #[error("Not assigned to this patient")]
    NotAssigned,
    /// A patient tried to start a conversation with their clinician.
    #[error("Patients cannot start a conversation with a clinician")]
    PatientCannotInitiate,
}

/// What the rules need to know about the pair, beyond the two users themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContactFacts {
    /// Blocks between sender (first) and recipient (second).
    pub blocks: BlockState,
    /// The care assignment between the clinician and the patient of the pair (only asked for a
    /// clinician and a patient, in either direction).
    pub care: CareAssignment,
    /// A conversation between the two was started by the recipient clinician (only asked when a
    /// patient writes to a clinician).
    pub started_by_clinician: bool,
    /// The two share a conversation, whoever started it: each has seen the other's role (only
    /// asked for a clinician and a patient).
    pub share_a_conversation: bool,
}

/// Which facts [`check_contact`] needs for this pair, so that callers only look up those.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactsNeeded {
    /// The clinician and the patient (in that order) whose care assignment to look up, if any.
    pub care: Option<(UserId, UserId)>,
    /// Whether to look up the pair's conversations (who started them, whether there is one). See
    /// also [`conversations_matter`], which spares the lookup once the assignment is known.
    pub conversations: bool,
}

/// Says which facts [`check_contact`] will read for a sender and recipient.
#[must_use]
pub fn facts_needed(sender: &User, recipient: &User) -> FactsNeeded {
    let care = match (sender.role, recipient.role) {
        (Role::Clinician, Role::Patient) => Some((sender.id, recipient.id)),
        (Role::Patient, Role::Clinician) => Some((recipient.id, sender.id)),
        _ => None,
    };
    FactsNeeded {
        care,
        conversations: care.is_some(),
    }
}

/// Whether the pair's conversations can still change the verdict once the care assignment is
/// known. They cannot for a clinician writing to a patient assigned to them now, which is a
/// clinician's ordinary send, so it costs no lookup.
#[must_use]
pub fn conversations_matter(sender: &User, recipient: &User, care: CareAssignment) -> bool {
    facts_needed(sender, recipient).conversations
        && !(sender.role == Role::Clinician && care == CareAssignment::Current)
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
    use ContactRefusal::{NotAssigned, PatientCannotInitiate, RecipientUnavailable};
    if !recipient.is_active || recipient.id == sender.id {
        return Err(RecipientUnavailable);
    }
    // A block by the recipient is indistinguishable from an unknown recipient; the sender's own
    // block is reported plainly, since they made it.
    if facts.blocks.second_blocked_first {
        return Err(RecipientUnavailable);
    }
    if facts.blocks.first_blocked_second {
        return Err(ContactRefusal::RecipientBlockedBySender);
    }
    if sender.role == Role::Admin || recipient.role == Role::Admin {
        return Ok(());
    }
    // Someone on the other side of the service is, to the sender, nobody.
    if sender.role.population() != recipient.role.population() {
        return Err(RecipientUnavailable);
    }
    // Whether the sender already knows the other party of a clinical pair, and so may be told
    // why the message is refused.
    let acquainted = facts.care != CareAssignment::Never || facts.share_a_conversation;
    let refusal = |known: ContactRefusal| {
        if acquainted {
            known
        } else {
            RecipientUnavailable
        }
    };
    match (sender.role, recipient.role) {
        (Role::Clinician, Role::Patient) if facts.care != CareAssignment::Current => {
            Err(refusal(NotAssigned))
        }
        (Role::Patient, Role::Clinician) if !facts.started_by_clinician => {
            Err(refusal(PatientCannotInitiate))
        }
        _ => Ok(()),
    }
}
