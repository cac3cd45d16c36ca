//! Stream entries written by each stored format must replay as the same domain events.

#![allow(clippy::expect_used)]

use chrono::{DateTime, Utc};
use messaging_domain::attachment::{AttachmentId, ScanStatus};
use messaging_domain::event::DomainEvent;
use messaging_domain::message::{ConversationId, DeleteScope, Message, MessageId, MessageView};
use messaging_domain::user::{BookingId, Role, UserId, UserSummary};

use super::{decode, encode};

/// Payloads exactly as the server wrote them before the stored format was versioned (the domain
/// types' derived serde form), one per event kind, in the order of [`events`].
const VERSION_0: [(&str, &str); 7] = [
    (
        "message_sent",
        r#"{"MessageSent":{"view":{"message":{"id":7,"conversation_id":3,"sender_id":1,"recipient_id":2,"booking_id":9,"subject":"Re: maths","body":"see you at 5","parent_id":6,"created_at":"2026-11-01T10:00:00.123456Z","read_at":null,"edited_at":"2026-11-01T10:00:00.123456Z","deleted_by_sender":false,"deleted_by_recipient":true,"deleted_for_everyone_at":null,"deleted_at":null},"sender":{"id":1,"username":"u1","first_name":"Ann","last_name":"Lee","role":"Student"},"recipient":{"id":2,"username":"u2","first_name":"Ann","last_name":"Lee","role":"Tutor"}},"client_message_id":"c-1"}}"#,
    ),
    (
        "message_read",
        r#"{"MessageRead":{"message_id":7,"sender_id":1,"reader_id":2,"read_at":"2026-11-01T10:00:00.123456Z"}}"#,
    ),
    (
        "thread_read",
        r#"{"ThreadRead":{"reader_id":2,"other_user_id":1,"booking_id":null,"count":3,"read_at":"2026-11-01T10:00:00.123456Z"}}"#,
    ),
    (
        "message_edited",
        r#"{"MessageEdited":{"view":{"message":{"id":7,"conversation_id":3,"sender_id":1,"recipient_id":2,"booking_id":9,"subject":"Re: maths","body":"see you at 5","parent_id":6,"created_at":"2026-11-01T10:00:00.123456Z","read_at":null,"edited_at":"2026-11-01T10:00:00.123456Z","deleted_by_sender":false,"deleted_by_recipient":true,"deleted_for_everyone_at":null,"deleted_at":null},"sender":{"id":1,"username":"u1","first_name":"Ann","last_name":"Lee","role":"Student"},"recipient":{"id":2,"username":"u2","first_name":"Ann","last_name":"Lee","role":"Tutor"}}}}"#,
    ),
    (
        "message_deleted",
        r#"{"MessageDeleted":{"message_id":7,"deleted_by":1,"scope":"ForEveryone","audience":[1,2]}}"#,
    ),
    (
        "message_delivered",
        r#"{"MessageDelivered":{"message_id":7,"sender_id":1,"recipient_id":2,"delivered_at":"2026-11-01T10:00:00.123456Z"}}"#,
    ),
    (
        "attachment_scanned",
        r#"{"AttachmentScanned":{"attachment_id":4,"message_id":7,"sender_id":1,"status":"Infected"}}"#,
    ),
];

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-01T10:00:00.123456Z")
        .expect("a valid time")
        .with_timezone(&Utc)
}

fn view() -> MessageView {
    let person = |id, role| UserSummary {
        id: UserId(id),
        username: format!("u{id}"),
        first_name: "Ann".into(),
        last_name: "Lee".into(),
        role,
    };
    MessageView {
        message: Message {
            id: MessageId(7),
            conversation_id: ConversationId(3),
            sender_id: UserId(1),
            recipient_id: UserId(2),
            booking_id: Some(BookingId(9)),
            subject: Some("Re: maths".into()),
            body: "see you at 5".into(),
            parent_id: Some(MessageId(6)),
            created_at: at(),
            read_at: None,
            edited_at: Some(at()),
            deleted_by_sender: false,
            deleted_by_recipient: true,
            deleted_for_everyone_at: None,
            deleted_at: None,
        },
        sender: person(1, Role::Student),
        recipient: person(2, Role::Tutor),
    }
}

/// One event of each kind, as the fixtures hold them.
fn events() -> Vec<DomainEvent> {
    vec![
        DomainEvent::MessageSent {
            view: view(),
            client_message_id: Some("c-1".into()),
        },
        DomainEvent::MessageRead {
            message_id: MessageId(7),
            sender_id: UserId(1),
            reader_id: UserId(2),
            read_at: at(),
        },
        DomainEvent::ThreadRead {
            reader_id: UserId(2),
            other_user_id: UserId(1),
            booking_id: None,
            count: 3,
            read_at: at(),
        },
        DomainEvent::MessageEdited { view: view() },
        DomainEvent::MessageDeleted {
            message_id: MessageId(7),
            deleted_by: UserId(1),
            scope: DeleteScope::ForEveryone,
            audience: vec![UserId(1), UserId(2)],
        },
        DomainEvent::MessageDelivered {
            message_id: MessageId(7),
            sender_id: UserId(1),
            recipient_id: UserId(2),
            delivered_at: at(),
        },
        DomainEvent::AttachmentScanned {
            attachment_id: AttachmentId(4),
            message_id: MessageId(7),
            sender_id: UserId(1),
            status: ScanStatus::Infected,
        },
    ]
}

#[test]
fn entries_written_before_versioning_replay_as_the_same_events() {
    for ((kind, payload), expected) in VERSION_0.into_iter().zip(events()) {
        let decoded = decode(payload).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(decoded, expected, "{kind}");
    }
}

#[test]
fn every_event_survives_the_current_format() {
    for event in events() {
        let payload = encode(&event).expect("encodes");
        assert!(payload.starts_with(r#"{"v":1,"type":"#), "{payload}");
        assert_eq!(decode(&payload).expect("decodes"), event);
    }
}

#[test]
fn the_current_format_spells_its_own_names_not_the_domains() {
    let payload = encode(&events()[0]).expect("encodes");
    assert!(payload.contains(r#""type":"message_sent""#), "{payload}");
    assert!(payload.contains(r#""role":"student""#), "{payload}");
    let deleted = encode(&events()[4]).expect("encodes");
    assert!(deleted.contains(r#""scope":"for_everyone""#), "{deleted}");
}

#[test]
fn a_version_1_entry_missing_an_optional_field_still_reads() {
    let payload = r#"{"v":1,"type":"thread_read","reader_id":2,"other_user_id":1,"count":3,"read_at":"2026-11-01T10:00:00.123456Z"}"#;
    assert_eq!(decode(payload).expect("decodes"), events()[2]);
}

#[test]
fn an_unknown_version_or_a_damaged_entry_is_refused_not_guessed() {
    for payload in [
        r#"{"v":2,"type":"message_read","message_id":7,"sender_id":1,"reader_id":2,"read_at":"2026-11-01T10:00:00Z"}"#,
        r#"{"v":1,"type":"message_exploded"}"#,
        r#"{"v":1,"type":"message_deleted","message_id":7,"deleted_by":1,"scope":"for_nobody","audience":[]}"#,
        r#"{"MessageRead":{"message_id":"seven"}}"#,
        "not json",
    ] {
        assert!(decode(payload).is_err(), "{payload}");
    }
}
