//! Table-driven tests for the contact rules. Every assertion goes through [`check`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;

use super::*;
use crate::user::UserId;

use ContactRefusal::{
    NotAssigned, PatientCannotInitiate, RecipientBlockedBySender, RecipientUnavailable,
};
use Role::{Admin, Clinician, Patient, Student, Tutor};

/// Asserts that `actual` equals `expected`, naming the case on failure.
#[track_caller]
fn check<T: PartialEq + Debug>(case: impl Debug, actual: T, expected: T) {
    assert_eq!(actual, expected, "case {case:?}");
}

fn user(id: i64, role: Role) -> User {
    User {
        id: UserId(id),
        username: format!("{}{id}", role.as_str()),
        email: format!("{}{id}@example.com", role.as_str()),
        first_name: String::new(),
        last_name: String::new(),
        role,
        is_active: true,
    }
}

fn inactive(id: i64, role: Role) -> User {
    User {
        is_active: false,
        ..user(id, role)
    }
}

/// A sender with id 1 and a recipient with id 2.
fn pair(sender: Role, recipient: Role) -> (User, User) {
    (user(1, sender), user(2, recipient))
}

fn no_facts() -> ContactFacts {
    ContactFacts::default()
}

fn blocks(first_blocked_second: bool, second_blocked_first: bool) -> ContactFacts {
    ContactFacts {
        blocks: BlockState {
            first_blocked_second,
            second_blocked_first,
        },
        ..ContactFacts::default()
    }
}

fn care(care: CareAssignment) -> ContactFacts {
    ContactFacts {
        care,
        ..ContactFacts::default()
    }
}

fn assigned() -> ContactFacts {
    care(CareAssignment::Current)
}

/// A conversation between the two, started by the clinician of the pair.
fn started_by_clinician() -> ContactFacts {
    ContactFacts {
        started_by_clinician: true,
        share_a_conversation: true,
        ..ContactFacts::default()
    }
}

/// A conversation between the two that the clinician did not start.
fn shared_conversation() -> ContactFacts {
    ContactFacts {
        share_a_conversation: true,
        ..ContactFacts::default()
    }
}

/// Every fact that could open a path, all at once.
fn all_facts() -> ContactFacts {
    ContactFacts {
        care: CareAssignment::Current,
        started_by_clinician: true,
        share_a_conversation: true,
        ..ContactFacts::default()
    }
}

// --- resolve_recipient ---------------------------------------------------------------------------

#[test]
fn unknown_inactive_and_self_recipients_all_resolve_to_the_same_refusal() {
    let sender = user(1, Student);
    let cases = [
        ("unknown", None, Err(RecipientUnavailable)),
        (
            "inactive",
            Some(inactive(2, Tutor)),
            Err(RecipientUnavailable),
        ),
        ("self", Some(sender.clone()), Err(RecipientUnavailable)),
        (
            "inactive self",
            Some(inactive(1, Student)),
            Err(RecipientUnavailable),
        ),
        ("active other", Some(user(2, Tutor)), Ok(user(2, Tutor))),
        // Resolution does not judge roles; check_contact does.
        ("other side", Some(user(3, Patient)), Ok(user(3, Patient))),
    ];
    for (case, recipient, expected) in cases {
        check(case, resolve_recipient(&sender, recipient), expected);
    }
}

// --- check_contact: roles ------------------------------------------------------------------------

#[test]
fn roles_decide_who_may_message_whom_when_no_facts_are_known() {
    let cases = [
        // Admins may message anyone, and anyone may message an admin.
        (Admin, Student, Ok(())),
        (Admin, Tutor, Ok(())),
        (Admin, Patient, Ok(())),
        (Admin, Clinician, Ok(())),
        (Admin, Admin, Ok(())),
        (Student, Admin, Ok(())),
        (Tutor, Admin, Ok(())),
        (Patient, Admin, Ok(())),
        (Clinician, Admin, Ok(())),
        // The tutoring side talks among itself.
        (Student, Tutor, Ok(())),
        (Tutor, Student, Ok(())),
        (Student, Student, Ok(())),
        (Tutor, Tutor, Ok(())),
        // The two sides never mix, and someone on the other side is, to the sender, nobody.
        (Student, Patient, Err(RecipientUnavailable)),
        (Student, Clinician, Err(RecipientUnavailable)),
        (Tutor, Patient, Err(RecipientUnavailable)),
        (Tutor, Clinician, Err(RecipientUnavailable)),
        (Patient, Student, Err(RecipientUnavailable)),
        (Patient, Tutor, Err(RecipientUnavailable)),
        (Clinician, Student, Err(RecipientUnavailable)),
        (Clinician, Tutor, Err(RecipientUnavailable)),
        // The clinical side needs an assignment or a clinician-started conversation; a clinician
        // or patient the sender has nothing to do with is nobody too.
        (Clinician, Patient, Err(RecipientUnavailable)),
        (Patient, Clinician, Err(RecipientUnavailable)),
        (Clinician, Clinician, Ok(())),
        (Patient, Patient, Ok(())),
    ];
    check(
        "every pair of roles is listed",
        cases.len(),
        Role::ALL.len().pow(2),
    );
    for (sender, recipient, expected) in cases {
        let (s, r) = pair(sender, recipient);
        check(
            (sender, recipient),
            check_contact(&s, &r, &no_facts()),
            expected,
        );
    }
}

#[test]
fn a_clinician_may_message_a_patient_only_while_assigned() {
    let (clinician, patient) = pair(Clinician, Patient);
    let cases = [
        ("assigned", assigned(), Ok(())),
        // The clinician knows this patient: they are told why.
        (
            "assigned once, not now",
            care(CareAssignment::Former),
            Err(NotAssigned),
        ),
        // A conversation does not stand in for an assignment, but it shows they know each other.
        (
            "a conversation the clinician started, never assigned",
            started_by_clinician(),
            Err(NotAssigned),
        ),
        (
            "a conversation, never assigned",
            shared_conversation(),
            Err(NotAssigned),
        ),
        // A patient the clinician has nothing to do with is nobody.
        ("a stranger", no_facts(), Err(RecipientUnavailable)),
    ];
    for (case, facts, expected) in cases {
        check(case, check_contact(&clinician, &patient, &facts), expected);
    }
}

#[test]
fn a_patient_may_message_a_clinician_only_in_a_conversation_the_clinician_started() {
    let (patient, clinician) = pair(Patient, Clinician);
    let cases = [
        ("started by clinician", started_by_clinician(), Ok(())),
        // The patient's own clinician: they are told why.
        (
            "their clinician, no conversation",
            assigned(),
            Err(PatientCannotInitiate),
        ),
        (
            "their former clinician",
            care(CareAssignment::Former),
            Err(PatientCannotInitiate),
        ),
        (
            "a conversation the patient started",
            shared_conversation(),
            Err(PatientCannotInitiate),
        ),
        // A clinician the patient has nothing to do with is nobody.
        ("a stranger", no_facts(), Err(RecipientUnavailable)),
    ];
    for (case, facts, expected) in cases {
        check(case, check_contact(&patient, &clinician, &facts), expected);
    }
}

#[test]
fn clinical_facts_never_open_a_path_between_the_two_sides() {
    let cases = [
        (Student, Patient),
        (Tutor, Clinician),
        (Clinician, Student),
        (Patient, Tutor),
    ];
    for (sender, recipient) in cases {
        let (s, r) = pair(sender, recipient);
        check(
            (sender, recipient),
            check_contact(&s, &r, &all_facts()),
            Err(RecipientUnavailable),
        );
    }
}

#[test]
fn a_refusal_only_names_a_role_to_a_sender_who_already_knows_the_other_party() {
    // Every refusal of a sender who has neither a care relation nor a conversation with the
    // recipient is the unknown-recipient refusal, whatever the two roles.
    let unknown = resolve_recipient(&user(1, Student), None).unwrap_err();
    for sender_role in Role::ALL {
        for recipient_role in Role::ALL {
            let (s, r) = pair(sender_role, recipient_role);
            if let Err(refusal) = check_contact(&s, &r, &no_facts()) {
                check((sender_role, recipient_role), refusal, unknown);
            }
        }
    }
}

// --- check_contact: availability and blocks ------------------------------------------------------

#[test]
fn blocks_inactive_and_self_recipients_are_refused_before_any_role_rule() {
    let student = user(1, Student);
    let tutor = user(2, Tutor);
    let admin = user(3, Admin);
    let cases = [
        (
            "recipient blocked sender",
            &student,
            &tutor,
            blocks(false, true),
            Err(RecipientUnavailable),
        ),
        (
            "sender blocked recipient",
            &student,
            &tutor,
            blocks(true, false),
            Err(RecipientBlockedBySender),
        ),
        // When both blocked, the recipient's block wins: nothing tells the sender it exists.
        (
            "both blocked",
            &student,
            &tutor,
            blocks(true, true),
            Err(RecipientUnavailable),
        ),
        // Blocks bind admins too, in both directions.
        (
            "admin recipient blocked sender",
            &student,
            &admin,
            blocks(false, true),
            Err(RecipientUnavailable),
        ),
        (
            "admin sender blocked by recipient",
            &admin,
            &student,
            blocks(false, true),
            Err(RecipientUnavailable),
        ),
        (
            "admin sender blocked recipient",
            &admin,
            &student,
            blocks(true, false),
            Err(RecipientBlockedBySender),
        ),
        (
            "self",
            &student,
            &student,
            no_facts(),
            Err(RecipientUnavailable),
        ),
        (
            "admin to self",
            &admin,
            &admin,
            no_facts(),
            Err(RecipientUnavailable),
        ),
        ("no block", &student, &tutor, no_facts(), Ok(())),
    ];
    for (case, sender, recipient, facts, expected) in cases {
        check(case, check_contact(sender, recipient, &facts), expected);
    }
}

#[test]
fn an_inactive_recipient_is_unavailable_whatever_the_roles() {
    for sender_role in Role::ALL {
        for recipient_role in Role::ALL {
            let sender = user(1, sender_role);
            let recipient = inactive(2, recipient_role);
            check(
                (sender_role, recipient_role),
                check_contact(&sender, &recipient, &all_facts()),
                Err(RecipientUnavailable),
            );
        }
    }
}

#[test]
fn a_block_by_the_recipient_reads_exactly_like_an_unknown_recipient() {
    let student = user(1, Student);
    let tutor = user(2, Tutor);
    let unknown = resolve_recipient(&student, None).unwrap_err();
    let inactive_recipient = resolve_recipient(&student, Some(inactive(2, Tutor))).unwrap_err();
    let to_self = resolve_recipient(&student, Some(student.clone())).unwrap_err();
    let blocked = check_contact(&student, &tutor, &blocks(false, true)).unwrap_err();
    for (case, refusal) in [
        ("inactive", inactive_recipient),
        ("self", to_self),
        ("blocked by recipient", blocked),
    ] {
        check(case, refusal, unknown);
        check(case, refusal.to_string(), unknown.to_string());
    }
    check(
        "wording",
        unknown.to_string(),
        "Cannot send message to this recipient".to_owned(),
    );
    // The sender's own block is told plainly, and differently.
    let own_block = check_contact(&student, &tutor, &blocks(true, false)).unwrap_err();
    check(
        "own block wording",
        own_block.to_string(),
        "You have blocked this user".to_owned(),
    );
}

// --- facts_needed --------------------------------------------------------------------------------

#[test]
fn only_the_clinical_pairs_need_extra_facts() {
    for sender_role in Role::ALL {
        for recipient_role in Role::ALL {
            let (s, r) = pair(sender_role, recipient_role);
            let care = match (sender_role, recipient_role) {
                (Clinician, Patient) => Some((s.id, r.id)),
                (Patient, Clinician) => Some((r.id, s.id)),
                _ => None,
            };
            let expected = FactsNeeded {
                care,
                conversations: care.is_some(),
            };
            check(
                (sender_role, recipient_role),
                facts_needed(&s, &r),
                expected,
            );
        }
    }
}

#[test]
fn the_facts_a_pair_needs_are_the_facts_its_verdict_depends_on() {
    // For every pair of roles, flipping a fact that is not needed never changes the verdict.
    for sender_role in Role::ALL {
        for recipient_role in Role::ALL {
            let (s, r) = pair(sender_role, recipient_role);
            let needed = facts_needed(&s, &r);
            let base = check_contact(&s, &r, &no_facts());
            if needed.care.is_none() {
                for state in [CareAssignment::Former, CareAssignment::Current] {
                    check(
                        (sender_role, recipient_role, state),
                        check_contact(&s, &r, &care(state)),
                        base,
                    );
                }
            }
            // The conversations are needed unless the assignment already settles the verdict.
            for state in [
                CareAssignment::Never,
                CareAssignment::Former,
                CareAssignment::Current,
            ] {
                if conversations_matter(&s, &r, state) {
                    continue;
                }
                let without = check_contact(&s, &r, &care(state));
                for facts in [started_by_clinician(), shared_conversation()] {
                    check(
                        (sender_role, recipient_role, state, "conversations"),
                        check_contact(
                            &s,
                            &r,
                            &ContactFacts {
                                care: state,
                                ..facts
                            },
                        ),
                        without,
                    );
                }
            }
        }
    }
}
