//! What a PostgreSQL store hears from other instances (and itself): wake-ups for committed stream
//! entries, and fleeting events.

use messaging_domain::event::{StreamEvent, StreamSeq};
use messaging_domain::user::UserId;

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// These users' streams reached these numbers (committed, readable now), through the store
    /// instance `origin` (compare with [`crate::Store::instance_id`]: a process hears its own
    /// changes too).
    Appended {
        /// The store instance that made the change.
        origin: String,
        /// The entries' positions.
        positions: Vec<(UserId, StreamSeq)>,
    },
    /// A fleeting event, as the instance that raised it encoded it.
    Live(String),
}

/// The origin, then `user:seq` pairs, separated by spaces: short enough that a change's entries
/// always fit in one notification (PostgreSQL allows 8000 bytes).
pub(crate) fn encode_appended(origin: &str, appended: &[StreamEvent]) -> String {
    let mut payload = origin.to_owned();
    for e in appended {
        payload.push_str(&format!(" {}:{}", e.user_id.0, e.seq));
    }
    payload
}

/// The notice of [`encode_appended`].
pub(crate) fn decode_appended(payload: &str) -> Notice {
    let (origin, positions) = payload.split_once(' ').unwrap_or((payload, ""));
    Notice::Appended {
        origin: origin.to_owned(),
        positions: decode_positions(positions),
    }
}

/// The pairs of [`encode_positions`]; anything unreadable is skipped (a listener catches up from
/// the stream anyway).
pub(crate) fn decode_positions(payload: &str) -> Vec<(UserId, StreamSeq)> {
    payload
        .split(' ')
        .filter_map(|pair| {
            let (user, seq) = pair.split_once(':')?;
            Some((UserId(user.parse().ok()?), seq.parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use chrono::DateTime;
    use messaging_domain::event::DomainEvent;
    use messaging_domain::message::MessageId;

    use super::*;

    #[test]
    fn positions_survive_the_round_trip_and_garbage_is_skipped() {
        let event = Arc::new(DomainEvent::MessageRead {
            message_id: MessageId(1),
            sender_id: UserId(2),
            reader_id: UserId(3),
            read_at: DateTime::UNIX_EPOCH,
        });
        let entries: Vec<StreamEvent> = [(2, 7), (3, 12)]
            .into_iter()
            .map(|(user, seq)| StreamEvent {
                user_id: UserId(user),
                seq,
                at: DateTime::UNIX_EPOCH,
                event: Arc::clone(&event),
            })
            .collect();
        let payload = encode_appended("inst-1", &entries);
        assert_eq!(payload, "inst-1 2:7 3:12");
        assert_eq!(
            decode_appended(&payload),
            Notice::Appended {
                origin: "inst-1".into(),
                positions: vec![(UserId(2), 7), (UserId(3), 12)],
            }
        );
        assert_eq!(decode_positions("x:1 4:y 5:6 :"), vec![(UserId(5), 6)]);
    }
}
