//! Tests for editing, over the fake store of `service::harness`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::TimeDelta;

use super::*;
use crate::service::harness::*;
use crate::user::BookingState;

#[test]
fn only_a_message_the_editor_can_see_can_be_edited() {
    let w = world()
        .message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1)))
        .message(message_with(11, STUDENT, TUTOR, |m| {
            m.deleted_by_sender = true
        }))
        .message(message_with(12, STUDENT, TUTOR, |m| {
            m.deleted_for_everyone_at = Some(ago(TimeDelta::seconds(30)));
        }));
    let cases = [
        ("stranger", OTHER_TUTOR, 10),
        ("deleted by the sender for themselves", STUDENT, 11),
        ("deleted for everyone", STUDENT, 12),
        ("no such message", STUDENT, 404),
    ];
    for (case, editor, id) in cases {
        let h = Harness::new(w.clone());
        let result = h.edit(editor, id, "changed");
        check(case, outcome(&result), "NotFound".to_owned());
        h.assert_untouched(case);
    }
}

#[test]
fn recipient_cannot_edit_someone_elses_message() {
    let h = Harness::new(world().message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1))));
    let result = h.edit(TUTOR, 10, "changed");
    check(
        "recipient",
        outcome(&result),
        "Refused(NotSender)".to_owned(),
    );
    h.assert_untouched("recipient");
}

#[test]
fn the_sender_may_edit_until_exactly_fifteen_minutes_after_sending() {
    let cases = [
        ("at once", TimeDelta::zero(), "Ok"),
        ("at exactly 15:00", TimeDelta::minutes(15), "Ok"),
        (
            "at 15:00.001",
            TimeDelta::minutes(15) + TimeDelta::milliseconds(1),
            "Refused(WindowExpired { minutes: 15 })",
        ),
        (
            "an hour later",
            TimeDelta::hours(1),
            "Refused(WindowExpired { minutes: 15 })",
        ),
    ];
    for (case, age, expected) in cases {
        let h = Harness::new(world().message(message(10, STUDENT, TUTOR, age)));
        let result = h.edit(STUDENT, 10, "changed");
        check(case, outcome(&result), expected.to_owned());
        check(case, h.writes().len(), usize::from(expected == "Ok"));
    }
}

#[test]
fn an_edited_body_is_masked_like_a_new_one_stored_with_its_audit_record_and_announced() {
    let cases = [
        ("no booking", None, CONTACT_BODY_MASKED),
        (
            "requested booking",
            Some(BookingState::Requested),
            CONTACT_BODY_MASKED,
        ),
        (
            "scheduled booking",
            Some(BookingState::Scheduled),
            CONTACT_BODY,
        ),
    ];
    for (case, state, expected_body) in cases {
        let mut w = world().message(message(10, STUDENT, TUTOR, TimeDelta::minutes(5)));
        if let Some(state) = state {
            w = w.booking(40, STUDENT, TUTOR, state);
        }
        let h = Harness::new(w.clone());
        let view = h.edit(STUDENT, 10, CONTACT_BODY).unwrap();
        check(
            case,
            h.writes(),
            vec![Write::UpdateBody {
                id: MessageId(10),
                body: expected_body.to_owned(),
                at: now(),
                audit: audit(STUDENT, AuditAction::MessageEdited, Some(10)),
            }],
        );
        check(
            case,
            (view.message.body.clone(), view.message.edited_at),
            (expected_body.to_owned(), Some(now())),
        );
        check(
            case,
            (view.sender.clone(), view.recipient.clone()),
            (w.user(STUDENT).summary(), w.user(TUTOR).summary()),
        );
        check(case, h.events(), vec![DomainEvent::MessageEdited { view }]);
    }
}

#[test]
fn an_edit_must_respect_the_senders_body_limit() {
    let h = Harness::new(world().message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1))));
    let result = h.edit(STUDENT, 10, &"x".repeat(2_001));
    check(
        "student edit",
        outcome(&result),
        "Validation(TooLong { field: \"message\", max: 2000 })".to_owned(),
    );
    h.assert_untouched("student edit");
}
