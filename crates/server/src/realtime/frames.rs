//! WebSocket frames: System A's event types and payloads, rendered for the user whose device
//! receives them. No payload carries an email address (System A's leak): only the public faces of
//! users ([`UserSummary`]), each as the receiving user may see it (another user's display name
//! masked, [`UserSummary::seen_by`]).

use messaging_domain::event::{DomainEvent, LiveEvent, StreamEvent, StreamSeq};
use messaging_domain::message::DeleteScope;
use messaging_domain::user::UserSummary;
use serde_json::{Value, json};

/// A stored stream entry as `user`'s device sees it; every such frame carries its `seq`.
#[must_use]
pub fn stored(entry: &StreamEvent) -> String {
    let mut frame = match &*entry.event {
        DomainEvent::MessageSent {
            view,
            client_message_id,
        } => {
            let m = &view.message;
            if entry.user_id == m.recipient_id {
                json!({
                    "type": "new_message",
                    "message_id": m.id.0,
                    "conversation_id": m.conversation_id.0,
                    "sender_id": m.sender_id.0,
                    "sender": face(&view.sender.seen_by(entry.user_id)),
                    "sender_role": view.sender.role.as_str(),
                    "recipient_id": m.recipient_id.0,
                    "booking_id": m.booking_id.map(|b| b.0),
                    "parent_message_id": m.parent_id.map(|p| p.0),
                    "subject": m.subject,
                    "message": m.body,
                    "created_at": m.created_at,
                    "is_read": m.read_at.is_some(),
                    "is_edited": m.edited_at.is_some(),
                })
            } else {
                json!({
                    "type": "message_sent",
                    "message_id": m.id.0,
                    "conversation_id": m.conversation_id.0,
                    "recipient_id": m.recipient_id.0,
                    "recipient": face(&view.recipient.seen_by(entry.user_id)),
                    "booking_id": m.booking_id.map(|b| b.0),
                    "parent_message_id": m.parent_id.map(|p| p.0),
                    "subject": m.subject,
                    "message": m.body,
                    "created_at": m.created_at,
                    "client_message_id": client_message_id,
                    // System A's front end matches its optimistic message by `temp_id`.
                    "temp_id": client_message_id,
                })
            }
        }
        DomainEvent::MessageEdited { view } => {
            let m = &view.message;
            json!({
                "type": "message_edited",
                "message_id": m.id.0,
                "conversation_id": m.conversation_id.0,
                "sender_id": m.sender_id.0,
                "recipient_id": m.recipient_id.0,
                "new_content": m.body,
                "is_edited": true,
                "edited_at": m.edited_at,
            })
        }
        DomainEvent::MessageRead {
            message_id,
            reader_id,
            read_at,
            ..
        } => json!({
            "type": "message_read",
            "message_id": message_id.0,
            "reader_id": reader_id.0,
            "read_at": read_at,
        }),
        DomainEvent::ThreadRead {
            reader_id,
            booking_id,
            count,
            read_at,
            ..
        } => json!({
            "type": "thread_read",
            "reader_id": reader_id.0,
            "booking_id": booking_id.map(|b| b.0),
            "count": count,
            "read_at": read_at,
        }),
        DomainEvent::MessageDeleted {
            message_id,
            deleted_by,
            scope,
            ..
        } => json!({
            "type": "message_deleted",
            "message_id": message_id.0,
            "deleted_by": deleted_by.0,
            "scope": match scope {
                DeleteScope::ForMe => "me",
                DeleteScope::ForEveryone => "everyone",
            },
        }),
        DomainEvent::MessageDelivered {
            message_id,
            recipient_id,
            delivered_at,
            ..
        } => json!({
            "type": "delivery_receipt",
            "message_id": message_id.0,
            "recipient_id": recipient_id.0,
            "delivered_at": delivered_at,
        }),
        DomainEvent::AttachmentScanned {
            attachment_id,
            message_id,
            status,
            ..
        } => json!({
            "type": "attachment_scanned",
            "attachment_id": attachment_id.0,
            "message_id": message_id.0,
            "scan_status": status.as_str(),
        }),
    };
    frame["seq"] = json!(entry.seq);
    frame.to_string()
}

/// A fleeting event's frame (the same for everyone who hears it). Carries no `seq`: it is not
/// part of any stream and is never replayed.
#[must_use]
pub fn live(event: &LiveEvent) -> String {
    match event {
        LiveEvent::Typing {
            from,
            is_typing,
            expires_in_seconds,
            ..
        } => json!({
            "type": "typing",
            "user_id": from.0,
            "is_typing": is_typing,
            "expires_in_seconds": expires_in_seconds,
        }),
        LiveEvent::Presence {
            user_id, online, ..
        } => json!({
            "type": "presence_status",
            "user_id": user_id.0,
            "status": if *online { "online" } else { "offline" },
        }),
    }
    .to_string()
}

/// The first frame on a connection: who it is for and where its stream stands.
#[must_use]
pub fn connected(
    user: UserSummary,
    latest_seq: StreamSeq,
    replaying_from: Option<StreamSeq>,
) -> String {
    json!({
        "type": "connected",
        "user": face(&user),
        "latest_seq": latest_seq,
        "replaying_from": replaying_from,
    })
    .to_string()
}

/// The position asked for is no longer kept: reload state, then go on from `latest`.
#[must_use]
pub fn resync(latest: StreamSeq) -> String {
    json!({"type": "resync_required", "latest_seq": latest}).to_string()
}

/// The reply to a client's `ping`.
#[must_use]
pub fn pong() -> String {
    json!({"type": "pong"}).to_string()
}

/// Sent just before the server closes a connection whose token expired (close code 4001).
#[must_use]
pub fn token_expired() -> String {
    json!({"type": "token_expired"}).to_string()
}

/// A client frame that was refused, with a stable code (like the HTTP problems' codes).
#[must_use]
pub fn error(code: &str, detail: &str) -> String {
    json!({"type": "error", "code": code, "detail": detail}).to_string()
}

fn face(user: &UserSummary) -> Value {
    json!({
        "id": user.id.0,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role.as_str(),
    })
}

/// What a client may send.
#[derive(Debug, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Keep-alive; answered with `pong`.
    Ping,
    /// The user is (or stopped) typing to `recipient_id`.
    Typing {
        /// The other member of the conversation.
        recipient_id: i64,
        /// Started (default) or stopped.
        #[serde(default = "yes")]
        is_typing: bool,
    },
    /// This device received message `message_id`.
    DeliveryReceipt {
        /// The message.
        message_id: i64,
    },
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use chrono::DateTime;
    use messaging_domain::message::{ConversationId, Message, MessageId, MessageView};
    use messaging_domain::user::{Role, UserId};

    use super::*;

    fn face(id: i64, name: &str) -> UserSummary {
        UserSummary {
            id: UserId(id),
            username: name.into(),
            first_name: name.to_uppercase(),
            last_name: String::new(),
            role: Role::Student,
        }
    }

    fn sent_to(user: i64) -> Value {
        let message = Message {
            id: MessageId(7),
            conversation_id: ConversationId(3),
            sender_id: UserId(1),
            recipient_id: UserId(2),
            booking_id: None,
            subject: None,
            body: "hello".into(),
            parent_id: None,
            created_at: DateTime::UNIX_EPOCH,
            read_at: None,
            edited_at: None,
            deleted_by_sender: false,
            deleted_by_recipient: false,
            deleted_for_everyone_at: None,
            deleted_at: None,
        };
        let entry = StreamEvent {
            user_id: UserId(user),
            seq: 42,
            at: DateTime::UNIX_EPOCH,
            event: Arc::new(DomainEvent::MessageSent {
                view: MessageView {
                    message,
                    sender: face(1, "amy"),
                    recipient: face(2, "bea"),
                },
                client_message_id: Some("draft-9".into()),
            }),
        };
        serde_json::from_str(&stored(&entry)).unwrap()
    }

    #[test]
    fn a_send_is_new_message_for_the_recipient_and_the_echo_for_the_sender() {
        let recipient = sent_to(2);
        assert_eq!(
            (
                &recipient["type"],
                &recipient["seq"],
                &recipient["message_id"]
            ),
            (&json!("new_message"), &json!(42), &json!(7))
        );
        assert!(recipient.get("client_message_id").is_none(), "{recipient}");
        let sender = sent_to(1);
        assert_eq!(
            (
                &sender["type"],
                &sender["client_message_id"],
                &sender["temp_id"]
            ),
            (&json!("message_sent"), &json!("draft-9"), &json!("draft-9"))
        );
        for frame in [recipient, sender] {
            assert!(!frame.to_string().contains("email"), "{frame}");
        }
    }

    #[test]
    fn the_other_partys_display_name_is_masked_in_message_frames() {
        let chatty = |id: i64, name: &str| UserSummary {
            last_name: "call 555-1234".into(),
            ..face(id, name)
        };
        let message = Message {
            id: MessageId(7),
            conversation_id: ConversationId(3),
            sender_id: UserId(1),
            recipient_id: UserId(2),
            booking_id: None,
            subject: None,
            body: "hello".into(),
            parent_id: None,
            created_at: DateTime::UNIX_EPOCH,
            read_at: None,
            edited_at: None,
            deleted_by_sender: false,
            deleted_by_recipient: false,
            deleted_for_everyone_at: None,
            deleted_at: None,
        };
        let rendered = |user: i64| -> Value {
            let entry = StreamEvent {
                user_id: UserId(user),
                seq: 1,
                at: DateTime::UNIX_EPOCH,
                event: Arc::new(DomainEvent::MessageSent {
                    view: MessageView {
                        message: message.clone(),
                        sender: chatty(1, "amy"),
                        recipient: chatty(2, "bea"),
                    },
                    client_message_id: None,
                }),
            };
            serde_json::from_str(&stored(&entry)).unwrap()
        };
        assert_eq!(rendered(2)["sender"]["last_name"], "call ***-****");
        assert_eq!(rendered(1)["recipient"]["last_name"], "call ***-****");
        assert_eq!(rendered(2)["sender"]["first_name"], "AMY");
        let own = connected(chatty(1, "amy"), 0, None);
        assert!(own.contains("call 555-1234"), "{own}");
    }

    #[test]
    fn fleeting_frames_carry_no_sequence_number() {
        let typing: Value = serde_json::from_str(&live(&LiveEvent::Typing {
            from: UserId(1),
            to: UserId(2),
            is_typing: false,
            expires_in_seconds: 5,
        }))
        .unwrap();
        assert_eq!(
            (&typing["type"], &typing["user_id"], &typing["is_typing"]),
            (&json!("typing"), &json!(1), &json!(false))
        );
        assert!(typing.get("seq").is_none());
        let presence: Value = serde_json::from_str(&live(&LiveEvent::Presence {
            user_id: UserId(3),
            online: true,
            audience: vec![UserId(1)],
        }))
        .unwrap();
        assert_eq!(presence["status"], "online");
        assert!(
            presence.get("audience").is_none(),
            "who else hears it stays private"
        );
    }

    #[test]
    fn client_frames_parse_and_typing_defaults_to_started() {
        let typing: ClientFrame =
            serde_json::from_str(r#"{"type":"typing","recipient_id":5}"#).unwrap();
        assert!(matches!(
            typing,
            ClientFrame::Typing {
                recipient_id: 5,
                is_typing: true
            }
        ));
        for bad in [
            r#"{"type":"typing"}"#,
            r#"{"type":"dance"}"#,
            r#"{"recipient_id":5}"#,
            "not json",
        ] {
            assert!(serde_json::from_str::<ClientFrame>(bad).is_err(), "{bad}");
        }
    }
}
