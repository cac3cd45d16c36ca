//! Table-driven tests for the message rules: parties, visibility, the edit window and per-party
//! delete. Every assertion goes through [`check`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;

use chrono::{DateTime, TimeDelta, Utc};

use super::*;

const SENDER: UserId = UserId(1);
const RECIPIENT: UserId = UserId(2);
const STRANGER: UserId = UserId(3);

/// Asserts that `actual` equals `expected`, naming the case on failure.
#[track_caller]
fn check<T: PartialEq + Debug>(case: impl Debug, actual: T, expected: T) {
    assert_eq!(actual, expected, "case {case:?}");
}

/// When the test message was sent: 2025-03-14 10:00:00 UTC.
fn sent_at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_741_946_400, 0).unwrap()
}

fn later(delta: TimeDelta) -> DateTime<Utc> {
    sent_at() + delta
}

fn window() -> TimeDelta {
    TimeDelta::minutes(15)
}

/// A fresh message from [`SENDER`] to [`RECIPIENT`]: unread, unedited, not deleted.
fn message() -> Message {
    Message {
        id: MessageId(10),
        conversation_id: ConversationId(20),
        sender_id: SENDER,
        recipient_id: RECIPIENT,
        booking_id: Some(BookingId(30)),
        subject: Some("Lesson".to_owned()),
        body: "See you at five".to_owned(),
        parent_id: None,
        created_at: sent_at(),
        read_at: None,
        edited_at: None,
        deleted_by_sender: false,
        deleted_by_recipient: false,
        deleted_for_everyone_at: None,
        deleted_at: None,
    }
}

/// [`message`] changed by `change`.
fn message_with(change: impl FnOnce(&mut Message)) -> Message {
    let mut m = message();
    change(&mut m);
    m
}

// --- parties -------------------------------------------------------------------------------------

#[test]
fn each_user_is_on_the_side_they_took_and_a_stranger_on_neither() {
    let m = message();
    let cases = [
        (SENDER, Some(Party::Sender), Some(RECIPIENT)),
        (RECIPIENT, Some(Party::Recipient), Some(SENDER)),
        (STRANGER, None, None),
    ];
    for (user, party, other) in cases {
        check(user, m.party_of(user), party);
        check(user, m.other_party(user), other);
    }
}

// --- visibility ----------------------------------------------------------------------------------

#[test]
fn a_message_is_visible_to_its_parties_until_they_delete_it_and_never_to_strangers() {
    let fresh = message();
    let deleted_by_sender = message_with(|m| m.deleted_by_sender = true);
    let deleted_by_recipient = message_with(|m| m.deleted_by_recipient = true);
    let deleted_by_both = message_with(|m| {
        m.deleted_by_sender = true;
        m.deleted_by_recipient = true;
        m.deleted_at = Some(later(TimeDelta::hours(1)));
    });
    let deleted_for_everyone =
        message_with(|m| m.deleted_for_everyone_at = Some(later(TimeDelta::hours(1))));
    // (state, visible to sender, to recipient, to a stranger)
    let cases = [
        ("fresh", &fresh, (true, true, false)),
        (
            "deleted by sender",
            &deleted_by_sender,
            (false, true, false),
        ),
        (
            "deleted by recipient",
            &deleted_by_recipient,
            (true, false, false),
        ),
        ("deleted by both", &deleted_by_both, (false, false, false)),
        (
            "deleted for everyone",
            &deleted_for_everyone,
            (false, false, false),
        ),
    ];
    for (state, m, expected) in cases {
        let actual = (
            m.is_visible_to(SENDER),
            m.is_visible_to(RECIPIENT),
            m.is_visible_to(STRANGER),
        );
        check(state, actual, expected);
    }
}

#[test]
fn read_and_edited_follow_their_timestamps() {
    let cases = [
        ("fresh", message(), (false, false)),
        (
            "read",
            message_with(|m| m.read_at = Some(later(TimeDelta::minutes(1)))),
            (true, false),
        ),
        (
            "edited",
            message_with(|m| m.edited_at = Some(later(TimeDelta::minutes(1)))),
            (false, true),
        ),
    ];
    for (state, m, expected) in cases {
        check(state, (m.is_read(), m.is_edited()), expected);
    }
}

// --- edit window ---------------------------------------------------------------------------------

#[test]
fn only_the_sender_may_edit_and_only_within_fifteen_minutes_inclusive() {
    let expired = Err(EditRefusal::WindowExpired { minutes: 15 });
    let cases = [
        ("sender at once", SENDER, TimeDelta::zero(), Ok(())),
        ("sender at 14:59", SENDER, TimeDelta::seconds(899), Ok(())),
        (
            "sender at exactly 15:00",
            SENDER,
            TimeDelta::minutes(15),
            Ok(()),
        ),
        (
            "sender at 15:00.001",
            SENDER,
            TimeDelta::minutes(15) + TimeDelta::milliseconds(1),
            expired,
        ),
        ("sender a day later", SENDER, TimeDelta::days(1), expired),
        (
            "recipient at once",
            RECIPIENT,
            TimeDelta::zero(),
            Err(EditRefusal::NotSender),
        ),
        (
            "recipient after the window",
            RECIPIENT,
            TimeDelta::hours(1),
            Err(EditRefusal::NotSender),
        ),
        (
            "stranger at once",
            STRANGER,
            TimeDelta::zero(),
            Err(EditRefusal::NotSender),
        ),
    ];
    let m = message();
    for (case, editor, elapsed, expected) in cases {
        check(
            case,
            m.check_edit(editor, later(elapsed), window()),
            expected,
        );
    }
}

#[test]
fn the_edit_window_is_configurable_and_its_refusal_names_its_length() {
    let m = message();
    let five = TimeDelta::minutes(5);
    check(
        "5 minutes exactly",
        m.check_edit(SENDER, later(five), five),
        Ok(()),
    );
    let refusal = m
        .check_edit(SENDER, later(five + TimeDelta::seconds(1)), five)
        .unwrap_err();
    check(
        "5 minutes and 1s",
        refusal,
        EditRefusal::WindowExpired { minutes: 5 },
    );
    check(
        "message",
        refusal.to_string(),
        "messages can only be edited within 5 minutes of sending".to_owned(),
    );
    let fifteen = m
        .check_edit(SENDER, later(TimeDelta::minutes(16)), window())
        .unwrap_err();
    check(
        "message",
        fifteen.to_string(),
        "messages can only be edited within 15 minutes of sending".to_owned(),
    );
}

// --- delete --------------------------------------------------------------------------------------

#[test]
fn each_party_may_delete_for_themselves_and_only_the_sender_for_everyone() {
    let t1 = later(TimeDelta::hours(1));
    let fresh = message();
    let cases = [
        (
            "sender for me",
            SENDER,
            DeleteScope::ForMe,
            Some(message_with(|m| m.deleted_by_sender = true)),
        ),
        (
            "recipient for me",
            RECIPIENT,
            DeleteScope::ForMe,
            Some(message_with(|m| m.deleted_by_recipient = true)),
        ),
        (
            "sender for everyone",
            SENDER,
            DeleteScope::ForEveryone,
            Some(message_with(|m| {
                m.deleted_for_everyone_at = Some(t1);
                m.deleted_at = Some(t1);
            })),
        ),
        (
            "recipient for everyone",
            RECIPIENT,
            DeleteScope::ForEveryone,
            None,
        ),
        (
            "stranger for everyone",
            STRANGER,
            DeleteScope::ForEveryone,
            None,
        ),
        ("stranger for me", STRANGER, DeleteScope::ForMe, None),
    ];
    for (case, user, scope, expected) in cases {
        check(case, fresh.after_delete(user, scope, t1), expected);
    }
}

#[test]
fn deleted_at_is_set_once_both_parties_deleted_and_keeps_the_first_time() {
    let t1 = later(TimeDelta::hours(1));
    let t2 = later(TimeDelta::hours(2));
    let t3 = later(TimeDelta::hours(3));

    let by_sender = message()
        .after_delete(SENDER, DeleteScope::ForMe, t1)
        .unwrap();
    check("one party only", by_sender.deleted_at, None);

    let by_both = by_sender
        .after_delete(RECIPIENT, DeleteScope::ForMe, t2)
        .unwrap();
    check(
        "both parties, in either order",
        by_both.clone(),
        message_with(|m| {
            m.deleted_by_sender = true;
            m.deleted_by_recipient = true;
            m.deleted_at = Some(t2);
        }),
    );
    let by_both_reversed = message()
        .after_delete(RECIPIENT, DeleteScope::ForMe, t1)
        .and_then(|m| m.after_delete(SENDER, DeleteScope::ForMe, t2))
        .unwrap();
    check("reverse order", by_both_reversed, by_both.clone());

    // Deleting for everyone afterwards records that time, but the message was already gone for both.
    let then_for_everyone = by_both
        .after_delete(SENDER, DeleteScope::ForEveryone, t3)
        .unwrap();
    check(
        "deleted_at after both",
        (
            then_for_everyone.deleted_at,
            then_for_everyone.deleted_for_everyone_at,
        ),
        (Some(t2), Some(t3)),
    );
}

#[test]
fn deleting_for_everyone_again_keeps_the_first_deletion_times() {
    let t1 = later(TimeDelta::hours(1));
    let t2 = later(TimeDelta::hours(2));
    let once = message()
        .after_delete(SENDER, DeleteScope::ForEveryone, t1)
        .unwrap();
    let twice = once
        .after_delete(SENDER, DeleteScope::ForEveryone, t2)
        .unwrap();
    check("twice", twice, once.clone());
    // A later delete-for-me by the recipient changes its flag but not the times.
    let then_recipient = once
        .after_delete(RECIPIENT, DeleteScope::ForMe, t2)
        .unwrap();
    check(
        "recipient afterwards",
        (
            then_recipient.deleted_by_recipient,
            then_recipient.deleted_for_everyone_at,
            then_recipient.deleted_at,
        ),
        (true, Some(t1), Some(t1)),
    );
}

#[test]
fn deleting_for_everyone_after_the_recipient_deleted_for_themselves_uses_the_later_time() {
    let t1 = later(TimeDelta::hours(1));
    let t2 = later(TimeDelta::hours(2));
    let result = message()
        .after_delete(RECIPIENT, DeleteScope::ForMe, t1)
        .and_then(|m| m.after_delete(SENDER, DeleteScope::ForEveryone, t2))
        .unwrap();
    check(
        "recipient then sender for everyone",
        result,
        message_with(|m| {
            m.deleted_by_recipient = true;
            m.deleted_for_everyone_at = Some(t2);
            m.deleted_at = Some(t2);
        }),
    );
}

#[test]
fn deleting_never_touches_anything_but_the_deletion_fields() {
    let t1 = later(TimeDelta::hours(1));
    let read_and_edited = message_with(|m| {
        m.read_at = Some(later(TimeDelta::minutes(2)));
        m.edited_at = Some(later(TimeDelta::minutes(1)));
        m.parent_id = Some(MessageId(9));
    });
    for (user, scope) in [
        (SENDER, DeleteScope::ForMe),
        (RECIPIENT, DeleteScope::ForMe),
        (SENDER, DeleteScope::ForEveryone),
    ] {
        let mut after = read_and_edited.after_delete(user, scope, t1).unwrap();
        after.deleted_by_sender = false;
        after.deleted_by_recipient = false;
        after.deleted_for_everyone_at = None;
        after.deleted_at = None;
        check((user, scope), after, read_and_edited.clone());
    }
}

#[test]
fn a_deletion_says_what_else_the_store_must_bring_in_line() {
    let t1 = later(TimeDelta::hours(1));
    let read = message_with(|m| m.read_at = Some(later(TimeDelta::minutes(2))));
    let gone_for_recipient = message_with(|m| m.deleted_by_recipient = true);
    let gone_for_everyone = message_with(|m| {
        m.deleted_for_everyone_at = Some(sent_at());
        m.deleted_at = Some(sent_at());
    });
    // (case, message, deleter, scope) -> (changed, hidden from, unread lost, redacts)
    let cases = [
        ("sender for me", message(), SENDER, DeleteScope::ForMe),
        ("recipient for me", message(), RECIPIENT, DeleteScope::ForMe),
        (
            "recipient for me, read",
            read.clone(),
            RECIPIENT,
            DeleteScope::ForMe,
        ),
        (
            "sender for everyone",
            message(),
            SENDER,
            DeleteScope::ForEveryone,
        ),
        (
            "sender for everyone, read",
            read,
            SENDER,
            DeleteScope::ForEveryone,
        ),
        (
            "sender for everyone after the recipient's own delete",
            gone_for_recipient.clone(),
            SENDER,
            DeleteScope::ForEveryone,
        ),
        (
            "recipient for me again",
            gone_for_recipient,
            RECIPIENT,
            DeleteScope::ForMe,
        ),
        (
            "sender for everyone again",
            gone_for_everyone,
            SENDER,
            DeleteScope::ForEveryone,
        ),
    ];
    let expected = [
        (true, vec![SENDER], false, false),
        (true, vec![RECIPIENT], true, false),
        (true, vec![RECIPIENT], false, false),
        (true, vec![SENDER, RECIPIENT], true, true),
        (true, vec![SENDER, RECIPIENT], false, true),
        (true, vec![SENDER], false, true),
        (false, vec![], false, false),
        (false, vec![], false, false),
    ];
    for ((case, current, by, scope), expected) in cases.into_iter().zip(expected) {
        let deletion = Deletion {
            message: current.id,
            by,
            scope,
            at: t1,
        };
        let deleted = deletion.apply(&current).unwrap();
        check(case, &deleted.before, &current);
        check(
            case,
            (
                deleted.changed(),
                deleted.hidden_from(),
                deleted.unread_lost(),
                deleted.redacts(),
            ),
            expected,
        );
    }
}

#[test]
fn a_deletion_by_someone_who_may_not_make_it_applies_to_nothing() {
    for (case, by, scope) in [
        (
            "recipient for everyone",
            RECIPIENT,
            DeleteScope::ForEveryone,
        ),
        ("stranger for me", STRANGER, DeleteScope::ForMe),
    ] {
        let deletion = Deletion {
            message: MessageId(10),
            by,
            scope,
            at: later(TimeDelta::hours(1)),
        };
        check(case, deletion.apply(&message()), None);
    }
}
