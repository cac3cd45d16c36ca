//! Group commit of new messages on PostgreSQL.
//!
//! A send used to be one transaction of fourteen statements (the conversation, its thread rows,
//! the message, the audit chain, two stream heads and entries, the announcement) and a commit.
//! Here the messages waiting at the same moment are written together: one transaction of six
//! statements whatever their number (the thread rows locked; the messages with their thread rows
//! and the chain locks; the chain and stream heads; the audit and stream entries with their
//! announcement; and BEGIN and COMMIT), each writing every message's rows at once (`unnest` of
//! arrays), and one commit (one WAL flush) for all. A lone message never waits: it is a
//! transaction of one. While a transaction runs, the next messages queue, and the next
//! transaction takes them all (at most [`MAX_BATCH`]); after a group of several, the next waits
//! up to a millisecond for as many to queue ([`GATHER_FROM`]), since the senders just answered
//! are about to send again.
//!
//! Every guarantee of a send stays: each message's audit entry is chained after its sender's
//! previous one (the chain lock of each sender, taken in sender order), each party's stream gets
//! its entries numbered without a gap, the other instances hear of them (NOTIFY, in the same
//! transaction), and a caller's send is acknowledged only once its transaction committed. One
//! group commits at a time per process ([`MAX_RUNNING`]). The
//! locks are taken in the order `shared/db.rs` writes down, every kind sorted, so a group and any
//! other change wait for each other but never in a circle.
//!
//! What a group does not take goes through the one-message transaction (`Db::insert_one`): a
//! conversation's first message (its thread rows do not exist yet). A group that fails before
//! any event was planned (a duplicate client id, a conversation deleted meanwhile) is rolled back
//! and each of its messages is tried on its own, so one bad message fails alone. A group that
//! fails later (the connection lost at commit) fails all its messages, and leaves none behind.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::FutureExt;
use messaging_domain::StoreError;
use messaging_domain::event::{Change, EventPlan, Recorded};
use messaging_domain::message::{Message, NewMessage};
use tokio::sync::oneshot;

use super::prepared::prepared;
use super::{Db, DbError, ordered};

mod write;
use write::write_group;

/// The most messages one transaction commits.
const MAX_BATCH: usize = 64;
/// Group transactions in flight at once. One: the messages that arrive while a group commits
/// wait for the next, which makes groups large. Two or three in flight made smaller groups that
/// cost more CPU per message and met on the same stream heads anyway (`bench http`, 16
/// connections: 1 983 and 1 854 sends/s against 2 103 to 2 108 with one; docs/benchmarks.md).
const MAX_RUNNING: usize = 1;
/// After a group of at least this many messages, the next waits (at most [`GATHER_WAIT`]) until
/// as many are queued: the senders just answered are about to send again. Without it, under
/// concurrent senders, the few already queued made a small group and those answered a moment
/// later the next, and groups alternated small and large (16 connections: ~7 messages a group).
/// A lone send never waits, nor does the group after one of fewer than four.
const GATHER_FROM: usize = 4;
/// The longest a group waits to gather (see [`GATHER_FROM`]).
const GATHER_WAIT: Duration = Duration::from_millis(1);
/// A group whose oldest message waited longer than this for its answer logs where the time went
/// (target `messaging_store::slow_group`, at debug).
const SLOW_GROUP: Duration = Duration::from_millis(20);

type Reply = oneshot::Sender<Result<Recorded<Message>, StoreError>>;

struct Pending {
    new: NewMessage,
    change: Change<Message>,
    reply: Reply,
    queued: Instant,
}

/// A message a group left to the one-message path, with its change and its caller.
struct Alone {
    new: NewMessage,
    change: Change<Message>,
    reply: Reply,
}

/// The new messages waiting for a group transaction, and how many of those run.
#[derive(Default)]
pub(super) struct SendQueue {
    state: Mutex<QueueState>,
    /// Signalled when a message is queued while a group task runs.
    arrived: tokio::sync::Notify,
}

#[derive(Default)]
struct QueueState {
    waiting: Vec<Pending>,
    running: usize,
}

impl std::fmt::Debug for SendQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("SendQueue")
            .field("waiting", &state.waiting.len())
            .field("running", &state.running)
            .finish()
    }
}

impl Db {
    /// Queues a new message for the next group transaction and waits for its outcome.
    pub(super) async fn store_new_message(
        &self,
        new: NewMessage,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut state = self
                .sends
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            state.waiting.push(Pending {
                new,
                change,
                reply,
                queued: Instant::now(),
            });
            let start = state.running < MAX_RUNNING;
            if start {
                state.running += 1;
            }
            start
        };
        if start {
            // A task of its own: the group outlives any one caller's request being dropped.
            let db = self.clone();
            tokio::spawn(async move { db.drain_sends().await });
        } else {
            self.sends.arrived.notify_one();
        }
        // Dropped unanswered only when the task committing it was (its runtime shut down):
        // nothing is known to be stored, and the same request may succeed on a retry.
        answer.await.map_err(|_| {
            StoreError::unavailable(GroupFailed("the group transaction was abandoned".into()))
        })?
    }

    /// Commits groups until nothing waits.
    async fn drain_sends(self) {
        let mut running = Running {
            queue: Arc::clone(&self.sends),
            finished: false,
        };
        let mut last = 0;
        loop {
            if last >= GATHER_FROM {
                self.gather(last).await;
            }
            let group: Vec<Pending> = {
                let mut state = self
                    .sends
                    .state
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if state.waiting.is_empty() {
                    // Under the same lock as the check: a message queued after it starts a task.
                    state.running -= 1;
                    running.finished = true;
                    return;
                }
                let n = state.waiting.len().min(MAX_BATCH);
                state.waiting.drain(..n).collect()
            };
            last = group.len();
            // A panic fails this group's callers (their replies are dropped), not the queue.
            let _ = std::panic::AssertUnwindSafe(self.commit_group(group))
                .catch_unwind()
                .await;
        }
    }

    /// Waits until `wanted` messages are queued, or [`GATHER_WAIT`] passed.
    async fn gather(&self, wanted: usize) {
        let deadline = tokio::time::Instant::now() + GATHER_WAIT;
        loop {
            let waiting = self
                .sends
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .waiting
                .len();
            if waiting >= wanted
                || tokio::time::timeout_at(deadline, self.sends.arrived.notified())
                    .await
                    .is_err()
            {
                return;
            }
        }
    }

    async fn commit_group(&self, group: Vec<Pending>) {
        let oldest = group.iter().map(|p| p.queued).min();
        let mut timeline = Timeline::new(oldest.unwrap_or_else(Instant::now));
        timeline.mark("queued");
        let mut news = Vec::with_capacity(group.len());
        let mut audits = Vec::with_capacity(group.len());
        let mut plans: Vec<Option<EventPlan<Message>>> = Vec::with_capacity(group.len());
        let mut replies = Vec::with_capacity(group.len());
        for pending in group {
            news.push(pending.new);
            audits.push(pending.change.audit);
            plans.push(Some(pending.change.plan));
            replies.push(Some(pending.reply));
        }
        // Indexes of the messages the group leaves to the one-message path.
        let mut alone: Vec<usize> = Vec::new();
        let outcome = match self.conn().await {
            Ok(conn) => {
                timeline.mark("pool");
                // The transaction is opened and committed by `write_group` itself (pipelined
                // with its first and last statements). Until it has ended, the connection must
                // not go back to the pool as it is: a failure rolls back here, and a connection
                // that could not be rolled back, or whose task stopped midway (a panic, a
                // runtime shutting down), is dropped instead, which ends its session.
                let mut open = OpenTransaction(Some(conn));
                let written = match open.0.as_mut() {
                    Some(conn) => {
                        write_group(
                            conn,
                            &self.origin,
                            &news,
                            &audits,
                            &mut plans,
                            &mut alone,
                            &mut timeline,
                        )
                        .await
                    }
                    None => Err(DbError::Corrupt("connection")),
                };
                match written {
                    Ok(recorded) => {
                        open.ended();
                        Ok(recorded)
                    }
                    Err(err) => {
                        open.roll_back().await;
                        Err(StoreError::from(err))
                    }
                }
            }
            Err(err) => Err(err),
        };
        let written = outcome.as_ref().map_or(0, Vec::len);
        match outcome {
            Ok(recorded) => {
                for (index, value) in recorded {
                    if let Some(reply) = replies[index].take() {
                        let _ = reply.send(Ok(value));
                    }
                }
                timeline.mark("answered");
            }
            Err(err) if plans.iter().all(Option::is_some) => {
                // Nothing was planned, so nothing is lost by trying each message on its own.
                tracing::debug!(
                    error = %crate::error_chain(&err),
                    "group of new messages rolled back; sending them one by one"
                );
                alone = (0..news.len()).collect();
            }
            Err(err) => {
                let text = crate::error_chain(&err);
                tracing::warn!(error = %text, "group of new messages failed");
                let unavailable = matches!(err, StoreError::Unavailable(_));
                let mut first = Some(err);
                for (index, reply) in replies.iter_mut().enumerate() {
                    if alone.contains(&index) {
                        continue;
                    }
                    if let Some(reply) = reply.take() {
                        let err = first.take().unwrap_or_else(|| {
                            let cause = GroupFailed(text.clone());
                            if unavailable {
                                StoreError::unavailable(cause)
                            } else {
                                StoreError::backend(cause)
                            }
                        });
                        let _ = reply.send(Err(err));
                    }
                }
            }
        }
        timeline.log_if_slow(news.len(), written);
        // The rest, each in a transaction of its own, off this task: the next group does not
        // wait for them, and different conversations' go side by side (a burst of first
        // messages to new contacts went one by one here, about 250 sends/s whatever the
        // concurrency: `bench ws`, docs/benchmarks.md). One conversation's keep their queue
        // order.
        let mut by_conversation: BTreeMap<(i64, i64, i64), Vec<Alone>> = BTreeMap::new();
        for index in alone {
            let (Some(reply), Some(plan)) = (replies[index].take(), plans[index].take()) else {
                continue;
            };
            let new = news[index].clone();
            let (low, high) = ordered(new.sender_id, new.recipient_id);
            let key = (low, high, new.booking_id.map_or(0, |b| b.0));
            let change = Change::new(audits[index].clone(), plan);
            by_conversation
                .entry(key)
                .or_default()
                .push(Alone { new, change, reply });
        }
        for (_, messages) in by_conversation {
            let db = self.clone();
            tokio::spawn(async move {
                for Alone { new, change, reply } in messages {
                    let result = db.insert_one(new, change).await;
                    let _ = reply.send(result);
                }
            });
        }
    }
}

/// Where one group's time went: when its oldest message was queued, and when the group passed
/// each step after that. Logged only for a group slower than [`SLOW_GROUP`].
pub(super) struct Timeline {
    start: Instant,
    marks: Vec<(&'static str, Instant)>,
}

impl Timeline {
    fn new(start: Instant) -> Self {
        Self {
            start,
            marks: Vec::with_capacity(8),
        }
    }

    /// The group has just finished `step`.
    pub(super) fn mark(&mut self, step: &'static str) {
        self.marks.push((step, Instant::now()));
    }

    fn log_if_slow(&self, messages: usize, written: usize) {
        let Some(&(_, end)) = self.marks.last() else {
            return;
        };
        let total = end - self.start;
        if total < SLOW_GROUP {
            return;
        }
        let mut steps = String::new();
        let mut previous = self.start;
        for (step, at) in &self.marks {
            let ms = (*at - previous).as_secs_f64() * 1e3;
            steps.push_str(&format!("{step} {ms:.1} "));
            previous = *at;
        }
        tracing::debug!(
            target: "messaging_store::slow_group",
            messages,
            written,
            total_ms = total.as_secs_f64() * 1e3,
            steps = steps.trim_end(),
            "slow group commit"
        );
    }
}

/// A committing task's place among the running ones. A task dropped before it finished (its
/// runtime shut down) gives its place back; when it was the last, the messages still waiting are
/// answered (unavailable) rather than left waiting for a task that will not come.
struct Running {
    queue: Arc<SendQueue>,
    finished: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let abandoned: Vec<Pending> = {
            let mut state = self
                .queue
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            state.running -= 1;
            if state.running == 0 {
                std::mem::take(&mut state.waiting)
            } else {
                Vec::new()
            }
        };
        // Dropping the replies answers their callers.
        drop(abandoned);
    }
}

/// A pooled connection whose group transaction may still be open. Dropped before
/// [`OpenTransaction::ended`], it takes the connection out of the pool and closes it (PostgreSQL
/// then rolls the transaction back), so no later user of the pool finds a transaction open.
struct OpenTransaction(Option<Object<AsyncPgConnection>>);

impl OpenTransaction {
    /// The transaction committed or rolled back: the connection may go back to the pool.
    fn ended(&mut self) {
        drop(self.0.take());
    }

    /// Rolls back whatever is open (nothing, if the transaction already ended: PostgreSQL only
    /// warns); on failure the connection is closed instead.
    async fn roll_back(&mut self) {
        let Some(conn) = self.0.as_mut() else {
            return;
        };
        match prepared(write::ROLLBACK).execute(conn).await {
            Ok(_) => self.ended(),
            Err(err) => tracing::warn!(
                error = %crate::error_chain(&err),
                "rolling back a group failed; closing its connection"
            ),
        }
    }
}

impl Drop for OpenTransaction {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            drop(Object::take(conn));
        }
    }
}

/// Why a message of a failed group failed (the first one carries the database's own error).
#[derive(Debug, thiserror::Error)]
#[error("group commit failed: {0}")]
struct GroupFailed(String);
