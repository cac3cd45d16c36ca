//! Users' event streams: numbered 1, 2, 3, ... per user with no gap, appended in the change's own
//! critical section, replayed after a position, pruned by age with their numbering kept.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use messaging_domain::event::{Outgoing, Replay, StreamEvent, StreamSeq};
use messaging_domain::message::MessageId;
use messaging_domain::user::UserId;

use crate::state::State;

/// One user's stream: the number of its newest entry, and the entries still kept.
#[derive(Debug, Default)]
pub(crate) struct Stream {
    head: StreamSeq,
    entries: BTreeMap<StreamSeq, StreamEvent>,
}

impl State {
    /// Appends the planned events to their users' streams at `at`, users in id order (as the
    /// store locks their heads), and returns the entries in the order they were appended.
    pub(crate) fn append_events(
        &mut self,
        planned: Vec<Outgoing>,
        at: DateTime<Utc>,
    ) -> Vec<StreamEvent> {
        // The databases keep microseconds; so does this store, so replays compare alike.
        let at = at.trunc_subsecs(6);
        let mut entries = Vec::new();
        for outgoing in planned {
            let event = Arc::new(outgoing.event);
            for user in outgoing.audience {
                entries.push((user, Arc::clone(&event)));
            }
        }
        entries.sort_by_key(|(user, _)| *user);
        let mut appended = Vec::with_capacity(entries.len());
        for (user_id, event) in entries {
            let stream = self.streams.entry(user_id).or_default();
            stream.head += 1;
            let entry = StreamEvent {
                user_id,
                seq: stream.head,
                at,
                event,
            };
            stream.entries.insert(stream.head, entry.clone());
            appended.push(entry);
        }
        appended
    }

    /// Up to `limit` entries after `after`, or a resync when they are no longer all kept (or
    /// `after` is beyond the newest).
    pub(crate) fn events_after(&self, user: UserId, after: StreamSeq, limit: u32) -> Replay {
        let latest = self.latest_seq(user);
        if after >= latest {
            return if after == latest {
                Replay::Events(Vec::new())
            } else {
                Replay::Resync { latest }
            };
        }
        let Some(stream) = self.streams.get(&user) else {
            return Replay::Resync { latest };
        };
        let limit = usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
        let events: Vec<StreamEvent> = stream
            .entries
            .range(after + 1..)
            .take(limit)
            .map(|(_, e)| e.clone())
            .collect();
        // The next entry must be the one right after `after`; if it was pruned, so was the gap.
        if events.first().is_none_or(|e| e.seq != after + 1) {
            return Replay::Resync { latest };
        }
        Replay::Events(events)
    }

    /// The number of the newest entry of `user`'s stream, 0 when it is empty.
    pub(crate) fn latest_seq(&self, user: UserId) -> StreamSeq {
        self.streams.get(&user).map_or(0, |s| s.head)
    }

    /// Forgets every entry appended before `before`; returns how many.
    pub(crate) fn prune_events(&mut self, before: DateTime<Utc>) -> u64 {
        let mut removed = 0;
        for stream in self.streams.values_mut() {
            let kept_before = stream.entries.len();
            stream.entries.retain(|_, e| e.at >= before);
            removed += kept_before - stream.entries.len();
        }
        u64::try_from(removed).unwrap_or(u64::MAX)
    }

    /// Blanks what was said in the entries about a message deleted for everyone; their numbers
    /// stay.
    pub(crate) fn redact_stream_entries(&mut self, message: MessageId) {
        for stream in self.streams.values_mut() {
            for entry in stream.entries.values_mut() {
                if entry.event.message_id() != Some(message) {
                    continue;
                }
                let mut event = (*entry.event).clone();
                if event.redact() {
                    entry.event = Arc::new(event);
                }
            }
        }
    }
}
