//! What the rules share: creating users, audit records, sending, pages and plans.

use chrono::{TimeDelta, Utc};
use messaging_domain::Change;
use messaging_domain::accounts::{EmailAddress, NewAccount, Username};
use messaging_domain::audit::{AuditAction, AuditRecord};
use messaging_domain::event::EventPlan;
use messaging_domain::message::{Message, NewMessage};
use messaging_domain::text::{LimitSpec, Page, PageNumber, PageSize};
use messaging_domain::user::{BookingId, Role, User, UserId};

use crate::Backend;

/// Creates an active user with the given name and role.
pub async fn user<S: Backend>(store: &S, name: &str, role: Role) -> User {
    store
        .create_account(
            NewAccount {
                username: Username::parse(name).unwrap(),
                email: EmailAddress::parse(&format!("{name}@example.com")).unwrap(),
                password_hash: "not-a-real-hash".into(),
                first_name: name.to_uppercase(),
                last_name: String::new(),
                role,
            },
            audit(AuditAction::UserRegistered, None),
        )
        .await
        .unwrap()
}

/// An audit record for `actor`.
pub fn audit(action: AuditAction, actor: Option<UserId>) -> AuditRecord {
    AuditRecord {
        actor,
        action,
        object_type: "message",
        object_id: None,
        at: Utc::now(),
        client_addr: Some("127.0.0.1".into()),
    }
}

/// Stores a message from `from` to `to` with `body`, a minute ago.
pub async fn send<S: Backend>(
    store: &S,
    from: &User,
    to: &User,
    booking: Option<BookingId>,
    body: &str,
) -> Message {
    store
        .insert_message(
            NewMessage {
                sender_id: from.id,
                recipient_id: to.id,
                booking_id: booking,
                subject: None,
                body: body.into(),
                parent_id: None,
                client_message_id: None,
                created_at: Utc::now() - TimeDelta::minutes(1),
            },
            Change::new(audit(AuditAction::MessageSent, Some(from.id)), no_events()),
        )
        .await
        .unwrap()
        .value
}

/// A plan that appends nothing, for rules about other things than event streams.
pub fn no_events<T>() -> EventPlan<T> {
    Box::new(|_| Vec::new())
}

/// Page `number` of `size` items.
pub fn page(number: i64, size: i64) -> Page {
    Page {
        number: PageNumber::parse(Some(number)).unwrap(),
        size: PageSize::parse(Some(size), LimitSpec::HISTORY).unwrap(),
    }
}
