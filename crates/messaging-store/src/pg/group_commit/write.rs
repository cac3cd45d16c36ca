//! The statements of one group transaction (see the parent module): the thread rows locked,
//! the messages with their thread rows and the senders' chain locks, the chain and stream heads,
//! then the audit and stream entries with their announcements. Each writes every message of the
//! group at once, from arrays.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use futures_util::TryFutureExt;
use messaging_domain::audit::AuditRecord;
use messaging_domain::event::{DomainEvent, EventPlan, Recorded, StreamEvent};
use messaging_domain::message::{Message, NewMessage};
use messaging_domain::user::UserId;

use super::super::prepared::prepared;
use super::super::{AUDIT_CHAIN_LOCK, Conn, DbError, EVENTS_CHANNEL, MessageRow, ordered};

/// The group's transaction is opened and committed by hand, each pipelined with a statement of
/// the group (see [`write_group`]); the caller rolls back on any error.
pub(super) const BEGIN: &str = "BEGIN";
pub(super) const COMMIT: &str = "COMMIT";
pub(super) const ROLLBACK: &str = "ROLLBACK";
/// Sent with BEGIN: the group's statements use the plan PostgreSQL made once per connection.
/// Left to choose, it planned the message insert and the heads afresh on every group (their
/// arrays' lengths make each custom plan look cheaper than the generic one): 0.3 and 0.1 ms of
/// planning per group, as much as running them for a lone message (`pg_stat_statements`,
/// docs/benchmarks.md). Transaction-scoped: it ends with the group.
const GENERIC_PLANS: &str = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)";

/// Stream positions per announcement (PostgreSQL refuses a NOTIFY payload of 8 000 bytes).
const POSITIONS_PER_NOTIFY: usize = 128;

#[derive(QueryableByName)]
struct FoundThread {
    #[diesel(sql_type = BigInt)]
    conversation_id: i64,
    #[diesel(sql_type = BigInt)]
    user_low: i64,
    #[diesel(sql_type = BigInt)]
    user_high: i64,
    #[diesel(sql_type = BigInt)]
    booking: i64,
}

/// A row of [`ADVANCE_HEADS`]: an audit chain's head or a stream's.
#[derive(QueryableByName)]
struct Head {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    chain: bool,
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    hash: Option<String>,
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
}

/// Every thread row of the named conversations, locked in (user id, conversation id) order
/// before anything is written (the first rule of the lock order); conversations without rows
/// yet are not returned. Thread rows are found by their whole key (user, conversation): no index
/// starts with the conversation (a join on it alone scanned the whole primary key per
/// conversation: 4.8 ms for 8 conversations at 16 000 rows, 0.7 ms by the whole key).
const LOCK_THREADS: &str = "\
SELECT m.conversation_id, c.user_low, c.user_high, COALESCE(c.booking_id, 0) AS booking
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS p(low, high, booking)
JOIN conversations c
  ON c.user_low = p.low AND c.user_high = p.high AND COALESCE(c.booking_id, 0) = p.booking
CROSS JOIN LATERAL (VALUES (c.user_low), (c.user_high)) AS u(id)
JOIN conversation_members m ON m.user_id = u.id AND m.conversation_id = c.id
ORDER BY m.user_id, m.conversation_id
FOR UPDATE OF m";

/// The messages (in the order given: the ids grow in that order), each conversation's thread
/// rows pointed at its newest message with the recipients' unread counts raised, and the audit
/// chain of every sender locked (in the order given, sorted by actor: the fourth rule of the lock
/// order; the thread rows are held already, and the new message rows no one else can see).
const STORE_MESSAGES: &str = "\
WITH ins AS (
    INSERT INTO messages (conversation_id, sender_id, recipient_id, booking_id, subject, body,
                          search_words, parent_id, client_message_id, created_at,
                          deleted_by_sender, deleted_by_recipient)
    SELECT c, s, r, b, subj, body, words, parent, client, at, FALSE, FALSE
    FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[],
                $7::text[], $8::bigint[], $9::text[], $10::timestamptz[])
         AS v(c, s, r, b, subj, body, words, parent, client, at)
    RETURNING id, conversation_id, sender_id, recipient_id, booking_id, subject, body, parent_id,
              created_at, read_at, edited_at, deleted_by_sender, deleted_by_recipient,
              deleted_for_everyone_at, deleted_at),
newest AS (
    SELECT DISTINCT ON (conversation_id) conversation_id, sender_id, recipient_id, id, created_at
    FROM ins ORDER BY conversation_id, id DESC),
received AS (
    SELECT conversation_id, recipient_id, count(*)::int AS n
    FROM ins GROUP BY conversation_id, recipient_id),
threads AS (
    UPDATE conversation_members m
    SET last_message_id = newest.id, last_message_at = newest.created_at,
        unread_count = m.unread_count + COALESCE((
            SELECT r.n FROM received r
            WHERE r.conversation_id = m.conversation_id AND r.recipient_id = m.user_id), 0)
    FROM newest CROSS JOIN LATERAL (VALUES (newest.sender_id), (newest.recipient_id)) AS u(id)
    WHERE m.user_id = u.id AND m.conversation_id = newest.conversation_id),
chains AS (SELECT pg_advisory_xact_lock(k) FROM unnest($11::bigint[]) AS k)
SELECT ins.* FROM ins WHERE (SELECT count(*) FROM chains) = $12";

/// Each sender's newest audit hash (a statement after the one that locked the chains: READ
/// COMMITTED's snapshot is taken when a statement starts), and each stream head advanced by its
/// number of new entries, in user order (the last rule of the lock order), with its new last
/// number.
const ADVANCE_HEADS: &str = "\
WITH advanced AS (
    INSERT INTO event_heads (user_id, last_seq)
    SELECT * FROM unnest($1::bigint[], $2::bigint[])
    ON CONFLICT (user_id) DO UPDATE SET last_seq = event_heads.last_seq + excluded.last_seq
    RETURNING user_id, last_seq)
SELECT TRUE AS chain, a.actor AS id,
       (SELECT l.hash FROM audit_log l WHERE l.actor_id = a.actor ORDER BY l.id DESC LIMIT 1) AS hash,
       0::bigint AS last_seq
FROM unnest($3::bigint[]) AS a(actor)
UNION ALL
SELECT FALSE, user_id, NULL, last_seq FROM advanced";

/// The audit entries (in chain order: the ids grow in it), the stream entries, and their
/// announcements to the other instances (sent at commit).
const RECORD: &str = "\
WITH audit AS (
    INSERT INTO audit_log (actor_id, action, object_type, object_id, client_addr, at, prev_hash,
                           hash)
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[],
                         $6::timestamptz[], $7::text[], $8::text[])),
events AS (
    INSERT INTO user_events (user_id, seq, at, payload, message_id)
    SELECT * FROM unnest($9::bigint[], $10::bigint[], $11::timestamptz[], $12::text[],
                         $13::bigint[]))
SELECT pg_notify($14, p) FROM unnest($15::text[]) AS p";

/// Writes the group's messages with one statement per kind of row, in a transaction of its own
/// that it opens (with the first statement) and commits (with the last): four round trips.
/// Returns each written message's index in the group with its record; the indexes of the
/// messages left to the one-message path go to `alone`. `plans` are called (taken) only once
/// every message is stored. On an error the transaction may still be open: the caller rolls it
/// back (or drops the connection).
pub(super) async fn write_group(
    conn: &mut Conn,
    origin: &str,
    news: &[NewMessage],
    audits: &[AuditRecord],
    plans: &mut [Option<EventPlan<Message>>],
    alone: &mut Vec<usize>,
    timeline: &mut super::Timeline,
) -> Result<Vec<(usize, Recorded<Message>)>, DbError> {
    // 1. The thread rows of every conversation, locked.
    let key = |new: &NewMessage| {
        let (low, high) = ordered(new.sender_id, new.recipient_id);
        (low, high, new.booking_id.map_or(0, |b| b.0))
    };
    let mut pairs: Vec<(i64, i64, i64)> = news.iter().map(key).collect();
    pairs.sort_unstable();
    pairs.dedup();
    // BEGIN and the plan mode go out with the lock, in one round trip (pipelined: PostgreSQL
    // still runs them in order; an error in any fails the three, and the caller rolls back).
    let (mut first, mut second, mut third) = (&*conn, &*conn, &*conn);
    let ((), (), found) = futures_util::future::try_join3(
        prepared(BEGIN).execute(&mut first).map_ok(drop),
        prepared(GENERIC_PLANS).execute(&mut second).map_ok(drop),
        prepared(LOCK_THREADS)
            .bind::<Array<BigInt>, _>(pairs.iter().map(|p| p.0).collect::<Vec<_>>())
            .bind::<Array<BigInt>, _>(pairs.iter().map(|p| p.1).collect::<Vec<_>>())
            .bind::<Array<BigInt>, _>(pairs.iter().map(|p| p.2).collect::<Vec<_>>())
            .load::<FoundThread>(&mut third),
    )
    .await?;
    timeline.mark("lock");
    let threads: HashMap<(i64, i64, i64), i64> = found
        .iter()
        .map(|t| ((t.user_low, t.user_high, t.booking), t.conversation_id))
        .collect();
    let mut members: HashMap<i64, usize> = HashMap::new();
    for t in &found {
        *members.entry(t.conversation_id).or_default() += 1;
    }
    // A conversation's first message creates its rows; a message without an actor has its own
    // chain rules. Both go alone.
    let mut written: Vec<(usize, i64)> = Vec::with_capacity(news.len());
    for (index, new) in news.iter().enumerate() {
        match threads.get(&key(new)) {
            Some(&conversation)
                if members.get(&conversation) == Some(&2) && audits[index].actor.is_some() =>
            {
                written.push((index, conversation));
            }
            _ => alone.push(index),
        }
    }
    if written.is_empty() {
        prepared(COMMIT).execute(conn).await?;
        return Ok(Vec::new());
    }

    // 2. The messages, their thread rows, and the senders' audit chains locked.
    let mut actors: Vec<i64> = written
        .iter()
        .filter_map(|&(i, _)| audits[i].actor.map(|a| a.0))
        .collect();
    actors.sort_unstable();
    actors.dedup();
    let column = |f: &dyn Fn(&NewMessage) -> Option<String>| -> Vec<Option<String>> {
        written.iter().map(|&(i, _)| f(&news[i])).collect()
    };
    let mut rows: Vec<MessageRow> = prepared(STORE_MESSAGES)
        .bind::<Array<BigInt>, _>(written.iter().map(|&(_, c)| c).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(
            written
                .iter()
                .map(|&(i, _)| news[i].sender_id.0)
                .collect::<Vec<_>>(),
        )
        .bind::<Array<BigInt>, _>(
            written
                .iter()
                .map(|&(i, _)| news[i].recipient_id.0)
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<BigInt>>, _>(
            written
                .iter()
                .map(|&(i, _)| news[i].booking_id.map(|b| b.0))
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Text>>, _>(column(&|n| n.subject.clone()))
        .bind::<Array<Text>, _>(
            written
                .iter()
                .map(|&(i, _)| news[i].body.clone())
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Text>, _>(
            written
                .iter()
                .map(|&(i, _)| {
                    messaging_domain::text::message_words(news[i].subject.as_deref(), &news[i].body)
                })
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<BigInt>>, _>(
            written
                .iter()
                .map(|&(i, _)| news[i].parent_id.map(|p| p.0))
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Text>>, _>(column(&|n| n.client_message_id.clone()))
        .bind::<Array<Timestamptz>, _>(
            written
                .iter()
                .map(|&(i, _)| news[i].created_at)
                .collect::<Vec<_>>(),
        )
        .bind::<Array<BigInt>, _>(
            actors
                .iter()
                .map(|a| AUDIT_CHAIN_LOCK ^ a)
                .collect::<Vec<_>>(),
        )
        .bind::<BigInt, _>(i64::try_from(actors.len()).unwrap_or(i64::MAX))
        .load(conn)
        .await?;
    timeline.mark("store");
    rows.sort_by_key(|r| r.id);
    let in_order = rows.len() == written.len()
        && rows.iter().zip(&written).all(|(row, &(i, _))| {
            row.sender_id == news[i].sender_id.0
                && row.recipient_id == news[i].recipient_id.0
                && row.body == news[i].body
        });
    if !in_order {
        return Err(DbError::Corrupt("messages"));
    }

    // 3. Every message is stored: its events can be planned (the plans are taken from here on,
    //    so a failure from here fails the whole group).
    let messages: Vec<(usize, Message)> = rows
        .into_iter()
        .zip(&written)
        .map(|(row, &(i, _))| (i, Message::from(row)))
        .collect();
    let mut planned: Vec<PlannedEntry> = Vec::new();
    for (i, message) in &messages {
        let Some(plan) = plans[*i].take() else {
            continue;
        };
        let at = news[*i].created_at.trunc_subsecs(6);
        let mut own = Vec::new();
        for outgoing in plan(message) {
            let payload = crate::stored_event::encode(&outgoing.event)?;
            let event = Arc::new(outgoing.event);
            for user in outgoing.audience {
                own.push((*i, user, Arc::clone(&event), payload.clone(), at));
            }
        }
        // Within one change, entries go to the streams in user order (as `append_events`).
        own.sort_by_key(|entry| entry.1);
        planned.extend(own);
    }
    let mut counts: BTreeMap<i64, i64> = BTreeMap::new();
    for entry in &planned {
        *counts.entry(entry.1.0).or_default() += 1;
    }

    // 4. The chains' heads, and the streams' heads advanced.
    let heads: Vec<Head> = prepared(ADVANCE_HEADS)
        .bind::<Array<BigInt>, _>(counts.keys().copied().collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(counts.values().copied().collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(actors.clone())
        .load(conn)
        .await?;
    timeline.mark("heads");
    let mut chain: HashMap<i64, String> = HashMap::new();
    let mut next_seq: HashMap<i64, i64> = HashMap::new();
    for head in heads {
        if head.chain {
            let hash = head
                .hash
                .unwrap_or_else(|| crate::audit::GENESIS_HASH.to_owned());
            chain.insert(head.id, hash);
        } else {
            let count = counts.get(&head.id).copied().unwrap_or(0);
            next_seq.insert(head.id, head.last_seq - count + 1);
        }
    }

    // 5. The audit entries, chained in message order, and the stream entries, numbered.
    let mut entries = AuditColumns::default();
    for (i, message) in &messages {
        let record = &audits[*i];
        let actor = record.actor.map(|a| a.0);
        let at = record.at.trunc_subsecs(6);
        let action = record.action.as_str();
        let prev = actor
            .and_then(|a| chain.get(&a).cloned())
            .unwrap_or_else(|| crate::audit::GENESIS_HASH.to_owned());
        let hash = crate::audit::ChainedFields {
            actor_id: actor,
            action,
            object_type: record.object_type,
            object_id: Some(message.id.0),
            client_addr: record.client_addr.as_deref(),
            at,
        }
        .hash(&prev);
        if let Some(a) = actor {
            chain.insert(a, hash.clone());
        }
        entries.actor.push(actor);
        entries.action.push(action.to_owned());
        entries.object_type.push(record.object_type.to_owned());
        entries.object_id.push(Some(message.id.0));
        entries.client_addr.push(record.client_addr.clone());
        entries.at.push(at);
        entries.prev_hash.push(prev);
        entries.hash.push(hash);
    }
    let mut events = EventColumns::default();
    let mut owners: Vec<usize> = Vec::with_capacity(planned.len());
    let mut appended: Vec<StreamEvent> = Vec::with_capacity(planned.len());
    for (i, user, event, payload, at) in planned {
        let seq = next_seq
            .get_mut(&user.0)
            .ok_or(DbError::Corrupt("event_heads"))?;
        events.user.push(user.0);
        events.seq.push(*seq);
        events.at.push(at);
        events.payload.push(payload);
        events.message.push(event.message_id().map(|m| m.0));
        owners.push(i);
        appended.push(StreamEvent {
            user_id: user,
            seq: u64::try_from(*seq).map_err(|_| DbError::Corrupt("event_heads"))?,
            at,
            event,
        });
        *seq += 1;
    }
    let announcements: Vec<String> = appended
        .chunks(POSITIONS_PER_NOTIFY)
        .map(|chunk| crate::listen::encode_appended(origin, chunk))
        .collect();
    // The last statement goes out with COMMIT, in one round trip. Should it fail, PostgreSQL
    // answers the COMMIT by rolling back; its own error fails the pair either way.
    let record = prepared(RECORD)
        .bind::<Array<Nullable<BigInt>>, _>(entries.actor)
        .bind::<Array<Text>, _>(entries.action)
        .bind::<Array<Text>, _>(entries.object_type)
        .bind::<Array<Nullable<BigInt>>, _>(entries.object_id)
        .bind::<Array<Nullable<Text>>, _>(entries.client_addr)
        .bind::<Array<Timestamptz>, _>(entries.at)
        .bind::<Array<Text>, _>(entries.prev_hash)
        .bind::<Array<Text>, _>(entries.hash)
        .bind::<Array<BigInt>, _>(events.user)
        .bind::<Array<BigInt>, _>(events.seq)
        .bind::<Array<Timestamptz>, _>(events.at)
        .bind::<Array<Text>, _>(events.payload)
        .bind::<Array<Nullable<BigInt>>, _>(events.message)
        .bind::<Text, _>(EVENTS_CHANNEL)
        .bind::<Array<Text>, _>(announcements);
    let (mut first, mut second) = (&*conn, &*conn);
    futures_util::future::try_join(
        record.execute(&mut first),
        prepared(COMMIT).execute(&mut second),
    )
    .await?;
    timeline.mark("commit");

    let mut by_message: HashMap<usize, Vec<StreamEvent>> = HashMap::new();
    for (i, event) in owners.into_iter().zip(appended) {
        by_message.entry(i).or_default().push(event);
    }
    Ok(messages
        .into_iter()
        .map(|(i, value)| {
            let events = by_message.remove(&i).unwrap_or_default();
            (i, Recorded { value, events })
        })
        .collect())
}

/// One stream entry a group appends: its message's index in the group, whose stream, the event,
/// its stored form, and when.
type PlannedEntry = (usize, UserId, Arc<DomainEvent>, String, DateTime<Utc>);

#[derive(Default)]
struct AuditColumns {
    actor: Vec<Option<i64>>,
    action: Vec<String>,
    object_type: Vec<String>,
    object_id: Vec<Option<i64>>,
    client_addr: Vec<Option<String>>,
    at: Vec<DateTime<Utc>>,
    prev_hash: Vec<String>,
    hash: Vec<String>,
}

#[derive(Default)]
struct EventColumns {
    user: Vec<i64>,
    seq: Vec<i64>,
    at: Vec<DateTime<Utc>>,
    payload: Vec<String>,
    message: Vec<Option<i64>>,
}
