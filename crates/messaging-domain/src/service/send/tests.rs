//! Tests for sending and replying, over the fake store of `service::harness`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::TimeDelta;
use futures_executor::block_on;

use super::*;
use crate::service::harness::*;
use crate::user::BookingState;

// --- send: masking and bookings ------------------------------------------------------------------

#[test]
fn contact_details_are_masked_unless_the_pair_shares_a_scheduled_active_or_ended_booking() {
    let cases = [
        ("no booking", None, CONTACT_BODY_MASKED),
        (
            "requested booking",
            Some(BookingState::Requested),
            CONTACT_BODY_MASKED,
        ),
        (
            "cancelled booking",
            Some(BookingState::Cancelled),
            CONTACT_BODY_MASKED,
        ),
        (
            "scheduled booking",
            Some(BookingState::Scheduled),
            CONTACT_BODY,
        ),
        ("active booking", Some(BookingState::Active), CONTACT_BODY),
        ("ended booking", Some(BookingState::Ended), CONTACT_BODY),
    ];
    for (case, state, expected) in cases {
        let mut w = world();
        if let Some(state) = state {
            w = w.booking(40, STUDENT, TUTOR, state);
        }
        let h = Harness::new(w);
        let sent = h.send(STUDENT, to(TUTOR, CONTACT_BODY)).unwrap();
        check(case, h.inserted().0.body, expected.to_owned());
        check(case, sent.message.body, expected.to_owned());
    }
}

#[test]
fn a_revealing_booking_with_someone_else_does_not_unmask_contact_details() {
    let cases = [
        ("sender's booking with another tutor", STUDENT, OTHER_TUTOR),
        (
            "recipient's booking with another student",
            OTHER_STUDENT,
            TUTOR,
        ),
    ];
    for (case, student, tutor) in cases {
        // The booking is scheduled, but between the sender (or the recipient) and a third user.
        let h = Harness::new(world().booking(40, student, tutor, BookingState::Scheduled));
        h.send(STUDENT, to(TUTOR, CONTACT_BODY)).unwrap();
        check(case, h.inserted().0.body, CONTACT_BODY_MASKED.to_owned());
    }
}

#[test]
fn masking_does_not_trust_the_directory_to_return_only_the_pairs_bookings() {
    let w = world()
        .booking(40, STUDENT, OTHER_TUTOR, BookingState::Scheduled)
        .booking(41, OTHER_STUDENT, TUTOR, BookingState::Active)
        .sloppy_bookings_between();
    let h = Harness::new(w);
    h.send(STUDENT, to(TUTOR, CONTACT_BODY)).unwrap();
    check(
        "sloppy directory",
        h.inserted().0.body,
        CONTACT_BODY_MASKED.to_owned(),
    );
}

#[test]
fn a_booking_id_that_is_not_between_the_two_users_is_refused_and_nothing_is_stored() {
    let w = world()
        // Scheduled bookings that would reveal contact details, but for other pairs.
        .booking(41, STUDENT, OTHER_TUTOR, BookingState::Scheduled)
        .booking(42, OTHER_STUDENT, TUTOR, BookingState::Active);
    let cases = [
        ("sender's booking with another tutor", 41),
        ("recipient's booking with another student", 42),
        ("booking that does not exist", 404),
    ];
    for (case, booking) in cases {
        let h = Harness::new(w.clone());
        let result = h.send(STUDENT, in_booking(to(TUTOR, CONTACT_BODY), booking));
        check(case, outcome(&result), "BookingNotFound".to_owned());
        h.assert_untouched(case);
    }
}

#[test]
fn a_booking_between_the_two_users_becomes_the_message_context_whatever_its_state() {
    let cases = [
        ("requested", BookingState::Requested, CONTACT_BODY_MASKED),
        ("cancelled", BookingState::Cancelled, CONTACT_BODY_MASKED),
        ("scheduled", BookingState::Scheduled, CONTACT_BODY),
    ];
    for (case, state, expected_body) in cases {
        // Stored tutor-first, to show the order of the parties does not matter.
        let h = Harness::new(world().booking(40, TUTOR, STUDENT, state));
        h.send(STUDENT, in_booking(to(TUTOR, CONTACT_BODY), 40))
            .unwrap();
        let (new, _) = h.inserted();
        check(
            case,
            (new.booking_id, new.body),
            (Some(BookingId(40)), expected_body.to_owned()),
        );
    }
}

// --- send: recipients and contact rules ----------------------------------------------------------

#[test]
fn unknown_inactive_self_and_blocking_recipients_are_refused_with_one_identical_error() {
    let cases = [
        ("unknown id", STUDENT, RecipientRef::Id(UNKNOWN)),
        (
            "unknown username",
            STUDENT,
            RecipientRef::Username("nobody".to_owned()),
        ),
        ("inactive id", STUDENT, RecipientRef::Id(INACTIVE_TUTOR)),
        (
            "inactive username",
            STUDENT,
            RecipientRef::Username("tutor7".to_owned()),
        ),
        ("self", STUDENT, RecipientRef::Id(STUDENT)),
        (
            "self by username",
            STUDENT,
            RecipientRef::Username("student1".to_owned()),
        ),
        (
            "recipient blocked the sender",
            STUDENT,
            RecipientRef::Id(OTHER_TUTOR),
        ),
        // Roles are not told: the other side of the service, and a clinician or patient the
        // sender has nothing to do with, are nobody.
        (
            "a patient, to a student",
            STUDENT,
            RecipientRef::Id(PATIENT),
        ),
        (
            "a clinician by username, to a tutor",
            TUTOR,
            RecipientRef::Username("clinician4".to_owned()),
        ),
        (
            "a student, to a clinician",
            CLINICIAN,
            RecipientRef::Id(STUDENT),
        ),
        (
            "a stranger patient, to a clinician",
            CLINICIAN,
            RecipientRef::Id(PATIENT),
        ),
        (
            "a stranger clinician by username, to a patient",
            PATIENT,
            RecipientRef::Username("clinician4".to_owned()),
        ),
    ];
    let mut displays = Vec::new();
    for (case, sender, recipient) in cases {
        let h = Harness::new(world().block(OTHER_TUTOR, STUDENT));
        let command = SendCommand {
            recipient,
            ..to(TUTOR, "hello")
        };
        let err = h.send(sender, command).unwrap_err();
        check(
            case,
            format!("{err:?}"),
            "Contact(RecipientUnavailable)".to_owned(),
        );
        displays.push(err.to_string());
        h.assert_untouched(case);
    }
    displays.dedup();
    check(
        "one wording for all",
        displays,
        vec!["Cannot send message to this recipient".to_owned()],
    );
}

#[test]
fn a_recipient_can_be_named_by_username() {
    let h = Harness::new(world());
    let command = SendCommand {
        recipient: RecipientRef::Username("tutor2".to_owned()),
        ..to(UNKNOWN, "hello")
    };
    let sent = h.send(STUDENT, command).unwrap();
    check(
        "recipient",
        (h.inserted().0.recipient_id, sent.recipient.id),
        (TUTOR, TUTOR),
    );
}

#[test]
fn a_sender_who_blocked_the_recipient_is_told_so() {
    let h = Harness::new(world().block(STUDENT, TUTOR));
    let result = h.send(STUDENT, to(TUTOR, "hello"));
    check(
        "own block",
        outcome(&result),
        "Contact(RecipientBlockedBySender)".to_owned(),
    );
    h.assert_untouched("own block");
}

#[test]
fn an_unknown_or_inactive_sender_cannot_send() {
    for (case, sender) in [
        ("unknown sender", UNKNOWN),
        ("inactive sender", INACTIVE_TUTOR),
    ] {
        let h = Harness::new(world());
        let result = h.send(sender, to(STUDENT, "hello"));
        check(case, outcome(&result), "SenderInactive".to_owned());
        h.assert_untouched(case);
    }
}

#[test]
fn the_tutoring_and_clinical_sides_cannot_message_each_other_but_admins_reach_everyone() {
    let cases = [
        (STUDENT, PATIENT, "Contact(RecipientUnavailable)"),
        (TUTOR, CLINICIAN, "Contact(RecipientUnavailable)"),
        (CLINICIAN, STUDENT, "Contact(RecipientUnavailable)"),
        (ADMIN, PATIENT, "Ok"),
        (ADMIN, STUDENT, "Ok"),
        (STUDENT, ADMIN, "Ok"),
        (PATIENT, ADMIN, "Ok"),
    ];
    for (sender, recipient, expected) in cases {
        let h = Harness::new(world());
        let result = h.send(sender, to(recipient, "hello"));
        check((sender, recipient), outcome(&result), expected.to_owned());
        check(
            (sender, recipient),
            h.writes().len(),
            usize::from(expected == "Ok"),
        );
    }
}

#[test]
fn a_clinician_may_message_only_a_patient_assigned_to_them() {
    let cases = [
        // A patient the clinician has nothing to do with looks like nobody.
        ("never assigned", world(), "Contact(RecipientUnavailable)"),
        (
            "assigned to another clinician",
            world().assign(ADMIN, PATIENT),
            "Contact(RecipientUnavailable)",
        ),
        // A patient the clinician knows is told apart.
        (
            "assigned once, not now",
            world().formerly_assigned(CLINICIAN, PATIENT),
            "Contact(NotAssigned)",
        ),
        (
            "a conversation, never assigned",
            world().conversation(CLINICIAN, PATIENT, CLINICIAN),
            "Contact(NotAssigned)",
        ),
        ("assigned", world().assign(CLINICIAN, PATIENT), "Ok"),
    ];
    for (case, w, expected) in cases {
        let h = Harness::new(w);
        let result = h.send(CLINICIAN, to(PATIENT, "How are you feeling?"));
        check(case, outcome(&result), expected.to_owned());
        check(case, h.writes().len(), usize::from(expected == "Ok"));
    }
}

#[test]
fn a_patient_may_message_a_clinician_only_in_a_conversation_the_clinician_started() {
    let cases = [
        // A clinician the patient has nothing to do with looks like nobody.
        (
            "a stranger, no conversation",
            world(),
            "Contact(RecipientUnavailable)",
        ),
        (
            "their clinician, no conversation",
            world().assign(CLINICIAN, PATIENT),
            "Contact(PatientCannotInitiate)",
        ),
        (
            "their former clinician, no conversation",
            world().formerly_assigned(CLINICIAN, PATIENT),
            "Contact(PatientCannotInitiate)",
        ),
        (
            "conversation started by the patient",
            world().conversation(PATIENT, CLINICIAN, PATIENT),
            "Contact(PatientCannotInitiate)",
        ),
        (
            "conversation started by the clinician",
            world().conversation(PATIENT, CLINICIAN, CLINICIAN),
            "Ok",
        ),
        (
            "one of several conversations started by the clinician",
            world()
                .conversation(PATIENT, CLINICIAN, PATIENT)
                .conversation(CLINICIAN, PATIENT, CLINICIAN),
            "Ok",
        ),
    ];
    for (case, w, expected) in cases {
        let h = Harness::new(w);
        let result = h.send(PATIENT, to(CLINICIAN, "I have a question"));
        check(case, outcome(&result), expected.to_owned());
        check(case, h.writes().len(), usize::from(expected == "Ok"));
    }
}

// --- what the other party reads: subjects, attachment names, display names ----------------------

/// A subject with contact details, and how it reads once masked.
const CONTACT_SUBJECT: &str = "Reach me on whatsapp at johnny99 or 555-1234";

const CONTACT_SUBJECT_MASKED: &str = "Reach me on whatsapp at *** or ***-****";

fn with_subject(command: SendCommand, raw: &str) -> SendCommand {
    SendCommand {
        subject: Subject::parse(raw).unwrap(),
        ..command
    }
}

#[test]
fn a_subject_is_masked_like_the_body_unless_the_pair_shares_a_revealing_booking() {
    let cases = [
        ("no booking", None, CONTACT_SUBJECT_MASKED),
        (
            "requested booking",
            Some(BookingState::Requested),
            CONTACT_SUBJECT_MASKED,
        ),
        (
            "scheduled booking",
            Some(BookingState::Scheduled),
            CONTACT_SUBJECT,
        ),
    ];
    for (case, state, expected) in cases {
        let mut w = world();
        if let Some(state) = state {
            w = w.booking(40, STUDENT, TUTOR, state);
        }
        let h = Harness::new(w);
        // The body holds nothing to mask: the subject alone must trigger the rule.
        let command = with_subject(to(TUTOR, "See the subject"), CONTACT_SUBJECT);
        let sent = h.send(STUDENT, command).unwrap();
        check(case, h.inserted().0.subject, Some(expected.to_owned()));
        check(case, sent.message.subject, Some(expected.to_owned()));
    }
}

#[test]
fn a_reply_subject_is_masked_even_when_its_parent_was_stored_unmasked() {
    // A parent stored before subjects were masked, or while a booking revealed details.
    let parent = message_with(10, STUDENT, TUTOR, |m| {
        m.subject = Some("Call 555-1234".to_owned());
    });
    let cases = [
        ("no booking", world(), "Re: Call ***-****"),
        (
            "active booking",
            world().booking(40, STUDENT, TUTOR, BookingState::Active),
            "Re: Call 555-1234",
        ),
    ];
    for (case, w, expected) in cases {
        let h = Harness::new(w.message(parent.clone()));
        h.reply(TUTOR, 10, "Sounds good").unwrap();
        check(case, h.inserted().0.subject, Some(expected.to_owned()));
    }
}

#[test]
fn an_attachment_name_is_masked_like_the_body_and_keeps_its_extension() {
    use crate::attachment::{FileKind, FileName};
    let name = |raw: &str| FileName::sanitize(raw, FileKind::Pdf);
    let cases = [
        (
            "address in the name, no booking",
            world(),
            "john@example.com.pdf",
            "j___@e___.com.pdf",
        ),
        (
            "phone in the name, no booking",
            world(),
            "call 555-1234.pdf",
            "call ___-____.pdf",
        ),
        (
            "address in the name, scheduled booking",
            world().booking(40, STUDENT, TUTOR, BookingState::Scheduled),
            "john@example.com.pdf",
            "john@example.com.pdf",
        ),
        ("an ordinary name", world(), "notes.pdf", "notes.pdf"),
    ];
    for (case, w, typed, expected) in cases {
        let h = Harness::new(w);
        let Ok(PreparedSend::New(prepared)) = block_on(h.service.prepare_send(
            &actor(STUDENT),
            to(TUTOR, "see the file"),
            name(typed),
        )) else {
            panic!("{case}: not a new message");
        };
        check(case, prepared.file_name.as_str(), expected);
        check(case, prepared.message.body.as_str(), "see the file");
    }
}

// --- send: body limits ---------------------------------------------------------------------------

#[test]
fn each_role_may_send_a_body_up_to_its_own_limit() {
    // Each sender writes to a recipient they are allowed to reach.
    let w = world()
        .assign(CLINICIAN, PATIENT)
        .conversation(PATIENT, CLINICIAN, CLINICIAN);
    let too_long = |max: usize| format!("Validation(TooLong {{ field: \"message\", max: {max} }})");
    let cases = [
        (STUDENT, TUTOR, 2_000, "Ok".to_owned()),
        (STUDENT, TUTOR, 2_001, too_long(2_000)),
        (TUTOR, STUDENT, 2_001, too_long(2_000)),
        (CLINICIAN, PATIENT, 2_001, "Ok".to_owned()),
        (CLINICIAN, PATIENT, 10_000, "Ok".to_owned()),
        // Patients write as long as in System B's current code.
        (PATIENT, CLINICIAN, 5_001, "Ok".to_owned()),
        (PATIENT, CLINICIAN, 10_000, "Ok".to_owned()),
        (ADMIN, STUDENT, 10_000, "Ok".to_owned()),
    ];
    for (sender, recipient, len, expected) in cases {
        let h = Harness::new(w.clone());
        let result = h.send(sender, to(recipient, &"x".repeat(len)));
        check((sender, len), outcome(&result), expected.clone());
        let stored_len: Vec<usize> = h
            .writes()
            .iter()
            .filter_map(|write| match write {
                Write::Insert(new, _) => Some(new.body.chars().count()),
                _ => None,
            })
            .collect();
        let expected_len = if expected == "Ok" {
            vec![len]
        } else {
            Vec::new()
        };
        check((sender, len), stored_len, expected_len);
    }
}

// --- send: the clinician route -------------------------------------------------------------------

#[test]
fn only_clinicians_and_admins_may_use_the_clinician_route() {
    let w = world().assign(CLINICIAN, PATIENT);
    let cases = [
        (STUDENT, TUTOR, "NotClinician"),
        (TUTOR, STUDENT, "NotClinician"),
        (PATIENT, ADMIN, "NotClinician"),
        (CLINICIAN, PATIENT, "Ok"),
        (ADMIN, PATIENT, "Ok"),
    ];
    for (sender, recipient, expected) in cases {
        let h = Harness::new(w.clone());
        let result = h.send(sender, via_clinician_route(to(recipient, "hello")));
        check(sender, outcome(&result), expected.to_owned());
        let actions: Vec<AuditAction> = h
            .writes()
            .iter()
            .map(|w| w.audit().unwrap().action)
            .collect();
        let expected_actions = if expected == "Ok" {
            vec![AuditAction::ClinicianMessageSent]
        } else {
            Vec::new()
        };
        check(sender, actions, expected_actions);
    }
}

#[test]
fn the_clinician_route_still_applies_the_contact_rules() {
    let h = Harness::new(world().formerly_assigned(CLINICIAN, PATIENT));
    let result = h.send(CLINICIAN, via_clinician_route(to(PATIENT, "hello")));
    check(
        "unassigned",
        outcome(&result),
        "Contact(NotAssigned)".to_owned(),
    );
    h.assert_untouched("unassigned");
}

// --- send: what is stored and announced ----------------------------------------------------------

#[test]
fn a_sent_message_is_stored_with_its_audit_record_and_announced_to_both_parties() {
    let h = Harness::new(world());
    let command = SendCommand {
        subject: Subject::parse(" Algebra ").unwrap(),
        ..to(TUTOR, "  See you on Monday\n")
    };
    let view = h.send(STUDENT, command).unwrap();
    let (new, audit_record) = h.inserted();
    check(
        "new message",
        new,
        NewMessage {
            sender_id: STUDENT,
            recipient_id: TUTOR,
            booking_id: None,
            subject: Some("Algebra".to_owned()),
            body: "See you on Monday".to_owned(),
            parent_id: None,
            client_message_id: None,
            created_at: now(),
        },
    );
    check(
        "audit",
        audit_record,
        audit(STUDENT, AuditAction::MessageSent, None),
    );
    let w = world();
    check("view id", view.message.id, INSERTED_ID);
    check(
        "view parties",
        (view.sender.clone(), view.recipient.clone()),
        (w.user(STUDENT).summary(), w.user(TUTOR).summary()),
    );
    check(
        "events",
        h.events(),
        vec![DomainEvent::MessageSent {
            view: view.clone(),
            client_message_id: None,
        }],
    );
    check("audience", h.events()[0].audience(), vec![TUTOR, STUDENT]);
}

// --- reply ---------------------------------------------------------------------------------------

#[test]
fn a_reply_goes_to_the_other_party_in_the_same_booking_with_a_re_subject() {
    let parent = |subject: Option<&str>| {
        message_with(10, STUDENT, TUTOR, |m| {
            m.subject = subject.map(str::to_owned);
            m.booking_id = Some(BookingId(40));
        })
    };
    let cases = [
        (
            "recipient replies",
            Some("Lesson plan"),
            TUTOR,
            STUDENT,
            "Re: Lesson plan",
        ),
        ("no parent subject", None, TUTOR, STUDENT, "Re: No Subject"),
        (
            "sender follows up",
            Some("Lesson plan"),
            STUDENT,
            TUTOR,
            "Re: Lesson plan",
        ),
        (
            "reply to a reply",
            Some("Re: Lesson plan"),
            TUTOR,
            STUDENT,
            "Re: Lesson plan",
        ),
    ];
    for (case, subject, replier, expected_recipient, expected_subject) in cases {
        let w = world()
            .booking(40, STUDENT, TUTOR, BookingState::Scheduled)
            .message(parent(subject));
        let h = Harness::new(w);
        let view = h.reply(replier, 10, "Sounds good").unwrap();
        let (new, audit_record) = h.inserted();
        check(
            case,
            new,
            NewMessage {
                sender_id: replier,
                recipient_id: expected_recipient,
                booking_id: Some(BookingId(40)),
                subject: Some(expected_subject.to_owned()),
                body: "Sounds good".to_owned(),
                parent_id: Some(MessageId(10)),
                client_message_id: None,
                created_at: now(),
            },
        );
        check(
            case,
            audit_record,
            audit(replier, AuditAction::MessageReplied, None),
        );
        check(
            case,
            h.events(),
            vec![DomainEvent::MessageSent {
                view,
                client_message_id: None,
            }],
        );
    }
}

#[test]
fn a_reply_to_a_message_the_replier_cannot_see_is_refused() {
    let w = world()
        .message(message(10, STUDENT, TUTOR, TimeDelta::hours(1)))
        .message(message_with(11, STUDENT, TUTOR, |m| {
            m.deleted_by_recipient = true
        }))
        .message(message_with(12, STUDENT, TUTOR, |m| {
            m.deleted_for_everyone_at = Some(ago(TimeDelta::minutes(1)));
            m.deleted_at = m.deleted_for_everyone_at;
        }));
    let cases = [
        ("stranger", OTHER_TUTOR, 10),
        ("admin who is not a party", ADMIN, 10),
        ("deleted by the replier", TUTOR, 11),
        ("deleted for everyone", TUTOR, 12),
        ("no such message", TUTOR, 404),
    ];
    for (case, replier, parent) in cases {
        let h = Harness::new(w.clone());
        let result = h.reply(replier, parent, "hello?");
        check(case, outcome(&result), "ParentNotFound".to_owned());
        h.assert_untouched(case);
    }
}

#[test]
fn a_reply_follows_the_contact_rules_and_the_reply_length_limit() {
    let clinician_message = message(10, CLINICIAN, PATIENT, TimeDelta::hours(1));
    let student_message = message(11, TUTOR, STUDENT, TimeDelta::hours(1));
    let base = world()
        .message(clinician_message)
        .message(student_message)
        .conversation(CLINICIAN, PATIENT, CLINICIAN);
    let cases = [
        (
            "patient in a clinician's conversation",
            base.clone(),
            PATIENT,
            10,
            "hi".to_owned(),
            "Ok".to_owned(),
        ),
        (
            "other party blocked the replier since",
            base.clone().block(TUTOR, STUDENT),
            STUDENT,
            11,
            "hi".to_owned(),
            "Contact(RecipientUnavailable)".to_owned(),
        ),
        (
            "replier blocked the other party since",
            base.clone().block(STUDENT, TUTOR),
            STUDENT,
            11,
            "hi".to_owned(),
            "Contact(RecipientBlockedBySender)".to_owned(),
        ),
        (
            "student reply over the limit",
            base,
            STUDENT,
            11,
            "x".repeat(2_001),
            "Validation(TooLong { field: \"content\", max: 2000 })".to_owned(),
        ),
    ];
    for (case, w, replier, parent, text, expected) in cases {
        let h = Harness::new(w);
        let result = h.reply(replier, parent, &text);
        check(case, outcome(&result), expected.clone());
        check(case, h.writes().len(), usize::from(expected == "Ok"));
    }
}

// --- probing ---------------------------------------------------------------------------------------

/// A recipient who blocked the sender reads exactly like an unknown recipient, even when the request
/// is invalid in other ways (the contact rules are checked before body length and booking).
#[test]
fn a_recipient_who_blocked_the_sender_cannot_be_told_apart_from_an_unknown_one_by_an_invalid_request()
 {
    let w =
        world()
            .block(TUTOR, STUDENT)
            .booking(41, STUDENT, OTHER_TUTOR, BookingState::Scheduled);
    let too_long = "x".repeat(2_001);
    let probes = [
        ("body over the student limit", to(UNKNOWN, &too_long)),
        ("someone else's booking", in_booking(to(UNKNOWN, "hi"), 41)),
    ];
    for (case, probe) in probes {
        let unknown = Harness::new(w.clone()).send(STUDENT, probe.clone());
        let blocked = Harness::new(w.clone()).send(
            STUDENT,
            SendCommand {
                recipient: RecipientRef::Id(TUTOR),
                ..probe
            },
        );
        check(case, outcome(&blocked), outcome(&unknown));
    }
}
