//! Tests for read and delivery receipts, over the fake store of `service::harness`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::TimeDelta;
use futures_executor::block_on;

use super::*;
use crate::audit::AuditRecord;
use crate::service::harness::*;

#[test]
fn only_the_recipient_who_still_sees_a_message_can_mark_it_read() {
    let w = world()
        .message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1)))
        .message(message_with(11, STUDENT, TUTOR, |m| {
            m.deleted_by_recipient = true
        }));
    let cases = [
        ("sender", STUDENT, 10),
        ("stranger", OTHER_TUTOR, 10),
        ("recipient who deleted it", TUTOR, 11),
        ("no such message", TUTOR, 404),
    ];
    for (case, reader, id) in cases {
        let h = Harness::new(w.clone());
        let result = h.mark_read(reader, id);
        check(case, outcome(&result), "NotFound".to_owned());
        h.assert_untouched(case);
    }
}

#[test]
fn marking_an_unread_message_read_stores_it_and_tells_the_sender() {
    let h = Harness::new(world().message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1))));
    let read = h.mark_read(TUTOR, 10).unwrap();
    check("read_at", read.read_at, Some(now()));
    check(
        "write",
        h.writes(),
        vec![Write::MarkRead {
            id: MessageId(10),
            at: now(),
            audit: audit(TUTOR, AuditAction::MessageRead, Some(10)),
        }],
    );
    let expected_event = DomainEvent::MessageRead {
        message_id: MessageId(10),
        sender_id: STUDENT,
        reader_id: TUTOR,
        read_at: now(),
    };
    check("audience", expected_event.audience(), vec![STUDENT]);
    check("event", h.events(), vec![expected_event]);
}

#[test]
fn an_already_read_message_is_returned_unchanged_without_a_write_or_an_event() {
    let first_read = ago(TimeDelta::minutes(3));
    let stored = message_with(10, STUDENT, TUTOR, |m| m.read_at = Some(first_read));
    let h = Harness::new(world().message(stored.clone()));
    let read = h.mark_read(TUTOR, 10).unwrap();
    check("unchanged", read, stored);
    h.assert_untouched("already read");
}

#[test]
fn marking_a_thread_read_announces_it_only_when_something_changed() {
    let w = world()
        .message(message(10, TUTOR, STUDENT, TimeDelta::minutes(3)))
        .message(message(11, TUTOR, STUDENT, TimeDelta::minutes(2)))
        .message(message(12, STUDENT, TUTOR, TimeDelta::minutes(1)));
    let thread_audit = AuditRecord {
        object_type: "user",
        ..audit(STUDENT, AuditAction::ThreadRead, Some(TUTOR.0))
    };

    let h = Harness::new(w.clone());
    let count = block_on(h.service.mark_thread_read(&actor(STUDENT), TUTOR, None)).unwrap();
    check("two unread", count, 2);
    check(
        "write",
        h.writes(),
        vec![Write::MarkThreadRead {
            reader: STUDENT,
            other: TUTOR,
            booking: None,
            at: now(),
            audit: thread_audit,
        }],
    );
    check(
        "event",
        h.events(),
        vec![DomainEvent::ThreadRead {
            reader_id: STUDENT,
            other_user_id: TUTOR,
            booking_id: None,
            count: 2,
            read_at: now(),
        }],
    );

    // The other tutor never wrote to the student.
    let h = Harness::new(w);
    let count = block_on(
        h.service
            .mark_thread_read(&actor(STUDENT), OTHER_TUTOR, None),
    )
    .unwrap();
    check("nothing unread", count, 0);
    check("no event", h.events(), Vec::new());
}

#[test]
fn only_the_recipient_can_report_delivery_and_only_the_sender_hears_of_it() {
    let w = world().message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1)));
    let h = Harness::new(w.clone());
    block_on(h.service.mark_delivered(&actor(TUTOR), MessageId(10))).unwrap();
    check(
        "delivered",
        h.deliveries(),
        vec![(
            STUDENT,
            DomainEvent::MessageDelivered {
                message_id: MessageId(10),
                sender_id: STUDENT,
                recipient_id: TUTOR,
                delivered_at: now(),
            },
        )],
    );
    for (case, who, id) in [
        ("sender forging a receipt", STUDENT, 10),
        ("stranger forging a receipt", OTHER_TUTOR, 10),
        ("no such message", TUTOR, 404),
    ] {
        let h = Harness::new(w.clone());
        let result = block_on(h.service.mark_delivered(&actor(who), MessageId(id)));
        check(case, outcome(&result), "NotFound".to_owned());
        h.assert_untouched(case);
    }
}
