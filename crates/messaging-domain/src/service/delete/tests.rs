//! Tests for deleting, over the fake store of `service::harness`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::TimeDelta;

use super::*;
use crate::service::harness::*;

#[test]
fn recipient_cannot_delete_a_message_for_everyone() {
    let h = Harness::new(world().message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1))));
    let result = h.delete(TUTOR, 10, DeleteScope::ForEveryone);
    check(
        "recipient for everyone",
        outcome(&result),
        "NotSender".to_owned(),
    );
    h.assert_untouched("recipient for everyone");
}

#[test]
fn deleting_tells_only_the_deleter_for_me_and_both_parties_for_everyone() {
    let cases = [
        (
            "sender for me",
            STUDENT,
            DeleteScope::ForMe,
            AuditAction::MessageDeletedForMe,
            vec![STUDENT],
        ),
        (
            "recipient for me",
            TUTOR,
            DeleteScope::ForMe,
            AuditAction::MessageDeletedForMe,
            vec![TUTOR],
        ),
        (
            "sender for everyone",
            STUDENT,
            DeleteScope::ForEveryone,
            AuditAction::MessageDeletedForEveryone,
            vec![STUDENT, TUTOR],
        ),
    ];
    for (case, deleter, scope, action, audience) in cases {
        let stored = message(10, STUDENT, TUTOR, TimeDelta::minutes(1));
        let h = Harness::new(world().message(stored.clone()));
        let deleted = h.delete(deleter, 10, scope).unwrap();
        check(
            case,
            Some(deleted),
            stored.after_delete(deleter, scope, now()),
        );
        check(
            case,
            h.writes(),
            vec![Write::Delete {
                id: MessageId(10),
                user: deleter,
                scope,
                at: now(),
                audit: audit(deleter, action, Some(10)),
            }],
        );
        check(
            case,
            h.events(),
            vec![DomainEvent::MessageDeleted {
                message_id: MessageId(10),
                deleted_by: deleter,
                scope,
                audience,
            }],
        );
    }
}

#[test]
fn a_message_the_deleter_cannot_see_is_not_found() {
    let w = world()
        .message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1)))
        .message(message_with(11, STUDENT, TUTOR, |m| {
            m.deleted_by_recipient = true
        }))
        .message(message_with(12, STUDENT, TUTOR, |m| {
            m.deleted_for_everyone_at = Some(ago(TimeDelta::seconds(30)));
        }));
    let cases = [
        ("stranger for me", OTHER_TUTOR, 10, DeleteScope::ForMe),
        (
            "stranger for everyone",
            OTHER_TUTOR,
            10,
            DeleteScope::ForEveryone,
        ),
        ("already deleted for me", TUTOR, 11, DeleteScope::ForMe),
        (
            "already deleted for everyone",
            STUDENT,
            12,
            DeleteScope::ForEveryone,
        ),
        ("no such message", STUDENT, 404, DeleteScope::ForMe),
    ];
    for (case, deleter, id, scope) in cases {
        let h = Harness::new(w.clone());
        let result = h.delete(deleter, id, scope);
        check(case, outcome(&result), "NotFound".to_owned());
        h.assert_untouched(case);
    }
}
