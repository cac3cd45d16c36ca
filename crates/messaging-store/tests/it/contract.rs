//! The contract tests, written once and run on both backends (see `main.rs`).

use chrono::{SubsecRound, TimeDelta, Utc};
use messaging_domain::StoreError;
use messaging_domain::accounts::{EmailAddress, NewAccount, Username};
use messaging_domain::audit::AuditAction;
use messaging_domain::message::{DeleteScope, HistoryRequest, MessageId};
use messaging_domain::ports::{
    Administration, Blocks, Credentials, MessageQueries, Messages, People, RefreshOutcome,
    RefreshTokenRecord, Sessions,
};
use messaging_domain::text::{LimitSpec, Page, PageNumber, PageSize, SearchQuery};
use messaging_domain::user::{BookingState, CareAssignment, Role, UserId};
use messaging_domain::{Change, Deletion};
use messaging_store::Store;

use crate::support::{audit, no_events, send, user};

pub use crate::attachments::*;

fn page(number: i64, size: i64) -> Page {
    Page {
        number: PageNumber::parse(Some(number)).unwrap(),
        size: PageSize::parse(Some(size), LimitSpec::HISTORY).unwrap(),
    }
}

fn threads_limit() -> PageSize {
    PageSize::parse(None, LimitSpec::THREADS).unwrap()
}

async fn bodies_seen_by(store: &Store, user: UserId, other: UserId) -> Vec<String> {
    store
        .history(
            user,
            other,
            None,
            HistoryRequest {
                before: None,
                page: page(1, 100),
            },
        )
        .await
        .unwrap()
        .messages
        .into_iter()
        .map(|m| m.body)
        .collect()
}

async fn search_bodies(store: &Store, user: UserId, q: &str) -> Vec<String> {
    store
        .search(user, &SearchQuery::parse(q).unwrap(), page(1, 50))
        .await
        .unwrap()
        .messages
        .into_iter()
        .map(|m| m.body)
        .collect()
}

pub async fn usernames_are_unique_whatever_their_case(store: &Store) {
    user(store, "Alice", Role::Student).await;
    let again = store
        .create_account(
            NewAccount {
                username: Username::parse("alice").unwrap(),
                email: EmailAddress::parse("other@example.com").unwrap(),
                password_hash: "x".into(),
                first_name: String::new(),
                last_name: String::new(),
                role: Role::Student,
            },
            audit(AuditAction::UserRegistered, None),
        )
        .await;
    assert!(
        matches!(
            again,
            Err(StoreError::Duplicate(messaging_domain::Unique::Username))
        ),
        "{again:?}"
    );
    let found = store.user_by_username("ALICE").await.unwrap().unwrap();
    assert_eq!(found.username, "Alice");
}

pub async fn first_message_creates_one_conversation_per_pair_and_booking(store: &Store) {
    let a = user(store, "anna", Role::Student).await;
    let b = user(store, "ben", Role::Tutor).await;
    let booking = store
        .create_booking(a.id, b.id, BookingState::Scheduled, Utc::now())
        .await
        .unwrap();
    let m1 = send(store, &a, &b, None, "general one").await;
    let m2 = send(store, &b, &a, None, "general two").await;
    let m3 = send(store, &a, &b, Some(booking.id), "about the booking").await;
    assert_eq!(
        m1.conversation_id, m2.conversation_id,
        "replies share the pair's thread"
    );
    assert_ne!(
        m1.conversation_id, m3.conversation_id,
        "a booking gets its own thread"
    );
    let conversations = store.conversations_between(b.id, a.id).await.unwrap();
    assert_eq!(conversations.len(), 2);
    assert!(conversations.iter().all(|c| c.started_by == a.id));
}

pub async fn thread_list_shows_each_members_latest_visible_message_and_unread_count(store: &Store) {
    let a = user(store, "amy", Role::Student).await;
    let b = user(store, "bea", Role::Tutor).await;
    let c = user(store, "cal", Role::Tutor).await;
    send(store, &b, &a, None, "from bea 1").await;
    send(store, &b, &a, None, "from bea 2").await;
    send(store, &c, &a, None, "from cal").await;
    let last_to_bea = send(store, &a, &b, None, "amy answers bea").await;

    let threads = store.threads(a.id, threads_limit()).await.unwrap();
    let summary: Vec<(String, String, i64)> = threads
        .iter()
        .map(|t| {
            (
                t.other_user.username.clone(),
                t.last_message.clone(),
                t.unread_count,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("bea".into(), "amy answers bea".into(), 2),
            ("cal".into(), "from cal".into(), 1),
        ]
    );
    // Amy deletes her own last message for herself: her thread falls back to the one before it,
    // while Bea still sees it.
    store
        .delete_message(
            Deletion {
                message: last_to_bea.id,
                by: a.id,
                scope: DeleteScope::ForMe,
                at: Utc::now(),
            },
            Change::new(
                audit(AuditAction::MessageDeletedForMe, Some(a.id)),
                no_events(),
            ),
        )
        .await
        .unwrap();
    let amy = store.threads(a.id, threads_limit()).await.unwrap();
    assert_eq!(
        amy[0].other_user.username, "cal",
        "cal's message is now Amy's newest"
    );
    assert_eq!(amy[1].last_message, "from bea 2");
    let bea = store.threads(b.id, threads_limit()).await.unwrap();
    assert_eq!(bea[0].last_message, "amy answers bea");
}

pub async fn thread_list_costs_the_same_queries_for_one_or_forty_conversations(store: &Store) {
    let me = user(store, "busy", Role::Tutor).await;
    let first = user(store, "first", Role::Student).await;
    send(store, &first, &me, None, "hello").await;
    let before = store.queries_executed();
    assert_eq!(
        store.threads(me.id, threads_limit()).await.unwrap().len(),
        1
    );
    let one = store.queries_executed() - before;

    for i in 0..39 {
        let other = user(store, &format!("student{i}"), Role::Student).await;
        send(store, &other, &me, None, "hi").await;
    }
    let before = store.queries_executed();
    assert_eq!(
        store.threads(me.id, threads_limit()).await.unwrap().len(),
        40
    );
    let forty = store.queries_executed() - before;
    assert_eq!(
        one, forty,
        "the thread list must not run a query per conversation"
    );
    assert!(
        forty <= 2,
        "one query (plus at most a connection check), got {forty}"
    );
}

pub async fn history_returns_the_newest_page_first_and_each_page_oldest_first(store: &Store) {
    let a = user(store, "hank", Role::Student).await;
    let b = user(store, "hope", Role::Tutor).await;
    for i in 1..=7 {
        send(store, &a, &b, None, &format!("m{i}")).await;
    }
    let request = |n| HistoryRequest {
        before: None,
        page: page(n, 3),
    };
    let first = store.history(b.id, a.id, None, request(1)).await.unwrap();
    let bodies: Vec<_> = first.messages.iter().map(|m| m.body.as_str()).collect();
    // System B returned the oldest page (m1..m3) here, so new messages never showed.
    assert_eq!(bodies, ["m5", "m6", "m7"]);
    assert!(first.has_more);
    let third = store.history(b.id, a.id, None, request(3)).await.unwrap();
    let bodies: Vec<_> = third.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["m1"]);
    assert!(!third.has_more);
}

pub async fn history_pages_by_keyset_without_gaps_or_repeats(store: &Store) {
    let a = user(store, "kim", Role::Student).await;
    let b = user(store, "kai", Role::Tutor).await;
    for i in 1..=10 {
        send(
            store,
            if i % 2 == 0 { &a } else { &b },
            if i % 2 == 0 { &b } else { &a },
            None,
            &format!("k{i}"),
        )
        .await;
    }
    let mut before: Option<MessageId> = None;
    let mut seen = Vec::new();
    loop {
        let slice = store
            .history(
                a.id,
                b.id,
                None,
                HistoryRequest {
                    before,
                    page: page(1, 4),
                },
            )
            .await
            .unwrap();
        let mut bodies: Vec<String> = slice.messages.iter().map(|m| m.body.clone()).collect();
        bodies.extend(seen);
        seen = bodies;
        if !slice.has_more {
            break;
        }
        before = slice.messages.first().map(|m| m.id);
    }
    let expected: Vec<String> = (1..=10).map(|i| format!("k{i}")).collect();
    assert_eq!(seen, expected);
}

pub async fn delete_for_me_hides_the_message_from_the_deleter_only_everywhere(store: &Store) {
    let a = user(store, "dora", Role::Student).await;
    let b = user(store, "dave", Role::Tutor).await;
    let keep = send(store, &a, &b, None, "budget kept").await;
    let gone = send(store, &a, &b, None, "budget secret").await;
    store
        .delete_message(
            Deletion {
                message: gone.id,
                by: b.id,
                scope: DeleteScope::ForMe,
                at: Utc::now(),
            },
            Change::new(
                audit(AuditAction::MessageDeletedForMe, Some(b.id)),
                no_events(),
            ),
        )
        .await
        .unwrap();
    // The recipient no longer sees it anywhere...
    assert_eq!(bodies_seen_by(store, b.id, a.id).await, ["budget kept"]);
    assert_eq!(search_bodies(store, b.id, "budget").await, ["budget kept"]);
    assert_eq!(store.unread_counts(b.id).await.unwrap().total, 1);
    // ...while the sender still does, in history, sent list and search (System B applied the
    // delete flags to one direction only, or not at all).
    assert_eq!(
        bodies_seen_by(store, a.id, b.id).await,
        ["budget kept", "budget secret"]
    );
    let sent: Vec<_> = store
        .sent(a.id, page(1, 20))
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(sent, [gone.id, keep.id]);
    assert_eq!(search_bodies(store, a.id, "budget").await.len(), 2);
    let stored = store.message(gone.id).await.unwrap().unwrap();
    assert!(stored.deleted_by_recipient && !stored.deleted_by_sender);
    assert_eq!(stored.deleted_at, None, "only one party deleted it");

    // The sender deletes the other one for themselves: gone from their sent list only.
    store
        .delete_message(
            Deletion {
                message: keep.id,
                by: a.id,
                scope: DeleteScope::ForMe,
                at: Utc::now(),
            },
            Change::new(
                audit(AuditAction::MessageDeletedForMe, Some(a.id)),
                no_events(),
            ),
        )
        .await
        .unwrap();
    let sent: Vec<_> = store
        .sent(a.id, page(1, 20))
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(sent, [gone.id]);
    assert_eq!(bodies_seen_by(store, b.id, a.id).await, ["budget kept"]);
}

pub async fn deleted_at_is_set_once_both_parties_deleted(store: &Store) {
    let a = user(store, "eve", Role::Student).await;
    let b = user(store, "eli", Role::Tutor).await;
    let m = send(store, &a, &b, None, "both delete").await;
    let first = store
        .delete_message(
            Deletion {
                message: m.id,
                by: a.id,
                scope: DeleteScope::ForMe,
                at: Utc::now(),
            },
            Change::new(
                audit(AuditAction::MessageDeletedForMe, Some(a.id)),
                no_events(),
            ),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(first.deleted_at, None);
    let second = store
        .delete_message(
            Deletion {
                message: m.id,
                by: b.id,
                scope: DeleteScope::ForMe,
                at: Utc::now(),
            },
            Change::new(
                audit(AuditAction::MessageDeletedForMe, Some(b.id)),
                no_events(),
            ),
        )
        .await
        .unwrap()
        .value;
    assert!(second.deleted_at.is_some());
    assert!(
        store.message(m.id).await.unwrap().is_some(),
        "the record is kept"
    );
    assert!(
        store
            .threads(a.id, threads_limit())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .threads(b.id, threads_limit())
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn delete_for_everyone_hides_the_message_from_both_and_fixes_unread_counts(
    store: &Store,
) {
    let a = user(store, "fay", Role::Student).await;
    let b = user(store, "fin", Role::Tutor).await;
    send(store, &a, &b, None, "first").await;
    let oops = send(store, &a, &b, None, "oops wrong person").await;
    assert_eq!(store.unread_counts(b.id).await.unwrap().total, 2);
    let deleted = store
        .delete_message(
            Deletion {
                message: oops.id,
                by: a.id,
                scope: DeleteScope::ForEveryone,
                at: Utc::now(),
            },
            Change::new(
                audit(AuditAction::MessageDeletedForEveryone, Some(a.id)),
                no_events(),
            ),
        )
        .await
        .unwrap()
        .value;
    assert!(deleted.deleted_for_everyone_at.is_some() && deleted.deleted_at.is_some());
    assert_eq!(bodies_seen_by(store, a.id, b.id).await, ["first"]);
    assert_eq!(bodies_seen_by(store, b.id, a.id).await, ["first"]);
    assert_eq!(store.unread_counts(b.id).await.unwrap().total, 1);
    assert_eq!(
        store.threads(b.id, threads_limit()).await.unwrap()[0].last_message,
        "first"
    );
    assert!(search_bodies(store, a.id, "oops").await.is_empty());
}

pub async fn mark_read_sets_read_at_once_and_lowers_the_unread_count(store: &Store) {
    let a = user(store, "gus", Role::Student).await;
    let b = user(store, "gia", Role::Tutor).await;
    let m = send(store, &a, &b, None, "read me").await;
    let t1 = Utc::now().trunc_subsecs(6);
    let read = store
        .mark_read(
            m.id,
            t1,
            Change::new(audit(AuditAction::MessageRead, Some(b.id)), no_events()),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(read.read_at, Some(t1));
    let again = store
        .mark_read(
            m.id,
            t1 + TimeDelta::minutes(5),
            Change::new(audit(AuditAction::MessageRead, Some(b.id)), no_events()),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(again.read_at, Some(t1), "read_at is set once");
    assert_eq!(store.unread_counts(b.id).await.unwrap().total, 0);
    assert_eq!(
        store.threads(b.id, threads_limit()).await.unwrap()[0].unread_count,
        0
    );
}

pub async fn mark_thread_read_reads_only_what_the_reader_can_see(store: &Store) {
    let a = user(store, "hal", Role::Student).await;
    let b = user(store, "hei", Role::Tutor).await;
    let c = user(store, "hub", Role::Tutor).await;
    send(store, &a, &b, None, "one").await;
    let hidden = send(store, &a, &b, None, "two").await;
    send(store, &a, &b, None, "three").await;
    send(store, &c, &b, None, "other thread").await;
    store
        .delete_message(
            Deletion {
                message: hidden.id,
                by: b.id,
                scope: DeleteScope::ForMe,
                at: Utc::now(),
            },
            Change::new(
                audit(AuditAction::MessageDeletedForMe, Some(b.id)),
                no_events(),
            ),
        )
        .await
        .unwrap();
    let count = store
        .mark_thread_read(
            b.id,
            a.id,
            None,
            Utc::now(),
            Change::new(audit(AuditAction::ThreadRead, Some(b.id)), no_events()),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(count, 2);
    let counts = store.unread_counts(b.id).await.unwrap();
    assert_eq!(counts.total, 1);
    assert_eq!(counts.by_sender, vec![(c.id, 1)]);
    assert!(
        store
            .message(hidden.id)
            .await
            .unwrap()
            .unwrap()
            .read_at
            .is_none()
    );
}

pub async fn search_finds_ranked_matches_and_never_messages_deleted_for_the_caller(store: &Store) {
    let a = user(store, "ivy", Role::Student).await;
    let b = user(store, "ian", Role::Tutor).await;
    let outsider = user(store, "ida", Role::Tutor).await;
    send(store, &a, &b, None, "calculus homework due friday").await;
    send(
        store,
        &b,
        &a,
        None,
        "calculus calculus calculus: integrals and calculus limits",
    )
    .await;
    send(store, &a, &b, None, "nothing relevant here").await;
    send(store, &outsider, &b, None, "calculus from someone else").await;
    let found = store
        .search(a.id, &SearchQuery::parse("calculus").unwrap(), page(1, 20))
        .await
        .unwrap();
    assert_eq!(found.total, 2, "only the caller's own conversations");
    assert!(
        found.messages[0].body.starts_with("calculus calculus"),
        "best match first"
    );
    // A word's beginning finds it: "integral" finds "integrals".
    assert_eq!(search_bodies(store, a.id, "integral").await.len(), 1);
    let paged = store
        .search(a.id, &SearchQuery::parse("calculus").unwrap(), page(2, 1))
        .await
        .unwrap();
    assert_eq!((paged.total, paged.messages.len()), (2, 1));
    let past_the_end = store
        .search(a.id, &SearchQuery::parse("calculus").unwrap(), page(5, 1))
        .await
        .unwrap();
    assert_eq!((past_the_end.total, past_the_end.messages.len()), (2, 0));
}

/// What search finds, the same on every backend: each query word must begin a word of the
/// message (its subject or body), case-insensitively; words are runs of letters and digits.
pub async fn search_finds_a_words_beginning_and_digits_inside_tokens_alike(store: &Store) {
    let a = user(store, "sw_a", Role::Student).await;
    let b = user(store, "sw_b", Role::Tutor).await;
    let cases: &[(&str, &[(&str, bool)])] = &[
        (
            "The code is SECRET-27993725, keep it",
            &[
                ("27993725", true),
                ("secret", true),
                ("SECRET-2799", true),
                ("7993725", false),
                ("secret-27993725", true),
            ],
        ),
        (
            "Budget meeting at 3pm",
            &[
                ("budg", true),
                ("BUDGET", true),
                ("meet budg", true),
                ("budget zebra", false),
                ("3pm", true),
                ("3p", true),
                ("pm", false),
                ("udget", false),
                // No stemming: a longer word is not a beginning of a shorter one.
                ("meetings", false),
            ],
        ),
        (
            "Room101 is booked; see v2.0 of the e-mail",
            &[
                ("room", true),
                ("room101", true),
                ("101", false),
                ("v2", true),
                ("mail", true),
                ("0 v2", true),
                ("email", false),
            ],
        ),
        (
            "naïve Café ÉCOLE",
            &[
                ("café", true),
                ("caf", true),
                ("école", true),
                ("cafe", false),
            ],
        ),
    ];
    for (body, _) in cases {
        send(store, &a, &b, None, body).await;
    }
    for (body, queries) in cases {
        for (q, expected) in *queries {
            let found = search_bodies(store, b.id, q).await;
            assert_eq!(
                found.iter().any(|f| f == body),
                *expected,
                "{q:?} in {body:?}: found {found:?}"
            );
        }
    }
    // The subject's words count too.
    store
        .insert_message(
            messaging_domain::message::NewMessage {
                sender_id: a.id,
                recipient_id: b.id,
                booking_id: None,
                subject: Some("Quarterly figures".into()),
                body: "see the attachment".into(),
                parent_id: None,
                client_message_id: None,
                created_at: chrono::Utc::now(),
            },
            Change::new(
                crate::support::audit(
                    messaging_domain::audit::AuditAction::MessageSent,
                    Some(a.id),
                ),
                crate::support::no_events(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        search_bodies(store, b.id, "quart").await,
        ["see the attachment"]
    );
}

/// Messages stored before their words were (an older database) are found once the store has
/// started: `migrate` fills the words in.
pub async fn messages_stored_before_their_words_are_found_after_start_up(store: &Store) {
    let (store, mut raw) = crate::support::store_with_raw_db(store.kind()).await;
    let a = user(&store, "old_a", Role::Student).await;
    let b = user(&store, "old_b", Role::Tutor).await;
    send(&store, &a, &b, None, "an old budget note").await;
    raw.execute("UPDATE messages SET search_words = NULL")
        .await
        .unwrap();
    assert!(search_bodies(&store, b.id, "budget").await.is_empty());
    store.migrate().await.unwrap();
    assert_eq!(
        search_bodies(&store, b.id, "budg").await,
        ["an old budget note"]
    );
}

pub async fn search_treats_query_syntax_as_plain_words(store: &Store) {
    let a = user(store, "jon", Role::Student).await;
    let b = user(store, "jia", Role::Tutor).await;
    send(store, &a, &b, None, "meet near the library").await;
    for q in [
        "near\" OR *",
        "NEAR(library",
        "library AND",
        "'; DROP TABLE messages; --",
        "-library",
    ] {
        let result = store
            .search(a.id, &SearchQuery::parse(q).unwrap(), page(1, 20))
            .await;
        assert!(result.is_ok(), "query {q:?} failed: {result:?}");
    }
    assert_eq!(search_bodies(store, a.id, "library\"").await.len(), 1);
}

pub async fn unread_counts_are_grouped_by_sender(store: &Store) {
    let me = user(store, "kay", Role::Tutor).await;
    let s1 = user(store, "sam", Role::Student).await;
    let s2 = user(store, "sue", Role::Student).await;
    let booking = store
        .create_booking(s1.id, me.id, BookingState::Active, Utc::now())
        .await
        .unwrap();
    send(store, &s1, &me, None, "a").await;
    send(store, &s1, &me, Some(booking.id), "b").await;
    send(store, &s2, &me, None, "c").await;
    send(store, &me, &s2, None, "mine do not count").await;
    let counts = store.unread_counts(me.id).await.unwrap();
    assert_eq!(counts.total, 3);
    let mut by_sender = counts.by_sender;
    by_sender.sort();
    assert_eq!(by_sender, vec![(s1.id, 2), (s2.id, 1)]);
}

pub async fn a_reused_refresh_token_revokes_its_whole_family(store: &Store) {
    let u = user(store, "lee", Role::Student).await;
    let now = Utc::now();
    let record = |hash: &str| RefreshTokenRecord {
        token_hash: hash.into(),
        user_id: u.id,
        family: "fam-1".into(),
        issued_at: now,
        expires_at: now + TimeDelta::days(1),
    };
    store.insert_refresh_token(record("h1")).await.unwrap();
    assert_eq!(
        store.consume_refresh_token("h1".into(), now).await.unwrap(),
        RefreshOutcome::Valid {
            user_id: u.id,
            family: "fam-1".into()
        }
    );
    store.insert_refresh_token(record("h2")).await.unwrap();
    // The old token comes back: someone copied it.
    assert_eq!(
        store.consume_refresh_token("h1".into(), now).await.unwrap(),
        RefreshOutcome::Reused { user_id: u.id }
    );
    assert_eq!(
        store.consume_refresh_token("h2".into(), now).await.unwrap(),
        RefreshOutcome::Invalid
    );
    assert_eq!(
        store
            .consume_refresh_token("nope".into(), now)
            .await
            .unwrap(),
        RefreshOutcome::Invalid
    );
    store
        .insert_refresh_token(RefreshTokenRecord {
            expires_at: now - TimeDelta::seconds(1),
            family: "fam-2".into(),
            ..record("h3")
        })
        .await
        .unwrap();
    assert_eq!(
        store.consume_refresh_token("h3".into(), now).await.unwrap(),
        RefreshOutcome::Invalid
    );
}

pub async fn blocks_bookings_and_assignments_are_read_back(store: &Store) {
    let doc = user(store, "drmay", Role::Clinician).await;
    let pat = user(store, "pat", Role::Patient).await;
    let stu = user(store, "stu", Role::Student).await;
    let tut = user(store, "tut", Role::Tutor).await;
    let care = |clinician: UserId, patient: UserId| store.care_assignment(clinician, patient);
    assert_eq!(care(doc.id, pat.id).await.unwrap(), CareAssignment::Never);
    store
        .assign_clinician(doc.id, pat.id, Utc::now())
        .await
        .unwrap();
    store
        .assign_clinician(doc.id, pat.id, Utc::now())
        .await
        .unwrap();
    assert_eq!(care(doc.id, pat.id).await.unwrap(), CareAssignment::Current);
    assert_eq!(care(pat.id, doc.id).await.unwrap(), CareAssignment::Never);

    store.block_user(stu.id, tut.id, Utc::now()).await.unwrap();
    let seen_by_student = store.blocks_between(stu.id, tut.id).await.unwrap();
    assert!(seen_by_student.first_blocked_second && !seen_by_student.second_blocked_first);
    let seen_by_tutor = store.blocks_between(tut.id, stu.id).await.unwrap();
    assert!(seen_by_tutor.second_blocked_first && !seen_by_tutor.first_blocked_second);

    let booking = store
        .create_booking(stu.id, tut.id, BookingState::Requested, Utc::now())
        .await
        .unwrap();
    let moved = store
        .set_booking_state(booking.id, BookingState::Active)
        .await
        .unwrap();
    assert_eq!(moved.state, BookingState::Active);
    let between = store.bookings_between(tut.id, stu.id).await.unwrap();
    assert_eq!(between.len(), 1);
    assert!(between[0].is_between(stu.id, tut.id));
    assert!(
        store
            .bookings_between(tut.id, doc.id)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn an_ended_care_assignment_is_remembered_and_can_be_renewed(store: &Store) {
    let doc = user(store, "drjune", Role::Clinician).await;
    let pat = user(store, "patjune", Role::Patient).await;
    let set = |assigned: bool| {
        store.set_assignment(
            doc.id,
            pat.id,
            assigned,
            audit(AuditAction::CareAssigned, None),
        )
    };
    let care = || store.care_assignment(doc.id, pat.id);
    let steps = [
        (true, true, CareAssignment::Current),
        (true, false, CareAssignment::Current),
        (false, true, CareAssignment::Former),
        (false, false, CareAssignment::Former),
        (true, true, CareAssignment::Current),
        (false, true, CareAssignment::Former),
    ];
    for (step, (assigned, changed, state)) in steps.into_iter().enumerate() {
        assert_eq!(
            set(assigned).await.unwrap(),
            changed,
            "step {step}: changed"
        );
        assert_eq!(care().await.unwrap(), state, "step {step}: state");
    }
}

pub async fn editing_replaces_the_body_and_marks_it_edited(store: &Store) {
    let a = user(store, "max", Role::Student).await;
    let b = user(store, "mia", Role::Tutor).await;
    let m = send(store, &a, &b, None, "tpyo").await;
    let at = Utc::now().trunc_subsecs(6);
    let edited = store
        .update_body(
            m.id,
            "typo fixed".into(),
            at,
            Change::new(audit(AuditAction::MessageEdited, Some(a.id)), no_events()),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(
        (edited.body.as_str(), edited.edited_at),
        ("typo fixed", Some(at))
    );
    assert_eq!(search_bodies(store, b.id, "typo").await, ["typo fixed"]);
    assert!(
        search_bodies(store, b.id, "tpyo").await.is_empty(),
        "the search index follows edits"
    );
    let missing = store
        .update_body(
            MessageId(999_999),
            "x".into(),
            at,
            Change::new(audit(AuditAction::MessageEdited, Some(a.id)), no_events()),
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

/// Every audit entry, newest first.
async fn audit_entries(store: &Store) -> Vec<messaging_store::audit::AuditEntry> {
    store
        .audit_entries(Default::default(), page(1, 100))
        .await
        .unwrap()
}

/// A few audited actions by two users: registrations, two sends, a read, an edit, a delete and a
/// login. Returns the message that was read.
async fn audited_actions(store: &Store) -> messaging_domain::message::Message {
    use messaging_domain::audit::AuditRecord;
    use messaging_domain::ports::AuditLog;
    let a = user(store, "ada", Role::Student).await;
    let b = user(store, "bob", Role::Tutor).await;
    let first = send(store, &a, &b, None, "hello").await;
    let second = send(store, &b, &a, None, "hi back").await;
    store
        .mark_read(
            first.id,
            Utc::now(),
            Change::new(
                AuditRecord {
                    object_id: Some(first.id.0),
                    ..audit(AuditAction::MessageRead, Some(b.id))
                },
                no_events(),
            ),
        )
        .await
        .unwrap();
    store
        .update_body(
            second.id,
            "hi there".into(),
            Utc::now(),
            Change::new(audit(AuditAction::MessageEdited, Some(b.id)), no_events()),
        )
        .await
        .unwrap();
    store
        .delete_message(
            Deletion {
                message: first.id,
                by: a.id,
                scope: DeleteScope::ForMe,
                at: Utc::now(),
            },
            Change::new(
                audit(AuditAction::MessageDeletedForMe, Some(a.id)),
                no_events(),
            ),
        )
        .await
        .unwrap();
    store
        .record(audit(AuditAction::LoginSucceeded, Some(a.id)))
        .await
        .unwrap();
    first
}

pub async fn audit_chain_verifies_after_several_actions(store: &Store) {
    use messaging_store::audit::{AuditVerification, GENESIS_HASH};
    audited_actions(store).await;
    // A refused change writes no entry, so it leaves nothing in the chain to explain.
    let missing = store
        .update_body(
            MessageId(999_999),
            "x".into(),
            Utc::now(),
            Change::new(audit(AuditAction::MessageEdited, None), no_events()),
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");

    let entries = audit_entries(store).await;
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "auth.login_succeeded",
            "message.deleted_for_me",
            "message.edited",
            "message.read",
            "message.sent",
            "message.sent",
            "auth.registered",
            "auth.registered",
        ]
    );
    assert_eq!(
        store.verify_audit_chain().await.unwrap(),
        AuditVerification {
            checked: 8,
            unsealed: 0,
            broken: None
        }
    );
    // Oldest first, each entry links to the same actor's entry before it, and each actor's first
    // entry to the genesis value.
    let mut last: std::collections::HashMap<_, Option<String>> = std::collections::HashMap::new();
    for entry in entries.iter().rev() {
        let expected = last
            .get(&entry.actor_id)
            .cloned()
            .unwrap_or_else(|| Some(GENESIS_HASH.to_owned()));
        assert_eq!(entry.prev_hash, expected, "entry {}", entry.id);
        last.insert(entry.actor_id, entry.hash.clone());
    }
    assert!(
        entries
            .iter()
            .all(|e| e.hash.as_ref().is_some_and(|h| h.len() == 64)),
        "every entry has a SHA-256 in hex"
    );
}

pub async fn audit_entries_filter_by_actor_action_object_and_time(store: &Store) {
    use chrono::TimeZone;
    use messaging_domain::audit::AuditRecord;
    use messaging_domain::ports::AuditLog;
    use messaging_store::audit::AuditFilter;
    let read = audited_actions(store).await;
    let ada = store.user_by_username("ada").await.unwrap().unwrap();
    let list = async |filter: AuditFilter| -> Vec<String> {
        store
            .audit_entries(filter, page(1, 100))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    };
    assert_eq!(
        list(AuditFilter {
            actor_id: Some(ada.id),
            ..Default::default()
        })
        .await,
        [
            "auth.login_succeeded",
            "message.deleted_for_me",
            "message.sent",
            "auth.registered"
        ]
    );
    let sent = store
        .audit_entries(
            AuditFilter {
                action: Some("message.sent".into()),
                ..Default::default()
            },
            page(1, 100),
        )
        .await
        .unwrap();
    assert_eq!(sent.len(), 2);
    assert!(sent[0].id > sent[1].id, "newest first");
    let about_read = store
        .audit_entries(
            AuditFilter {
                object_type: Some("message".into()),
                object_id: Some(read.id.0),
                ..Default::default()
            },
            page(1, 100),
        )
        .await
        .unwrap();
    assert!(
        about_read
            .iter()
            .all(|e| (e.object_type.as_str(), e.object_id) == ("message", Some(read.id.0))),
        "{about_read:?}"
    );
    // The test's registrations are also filed under `message` with the user's id, so only the
    // message's own entries are compared.
    let actions: Vec<&str> = about_read
        .iter()
        .map(|e| e.action.as_str())
        .filter(|a| a.starts_with("message."))
        .collect();
    assert_eq!(actions, ["message.read", "message.sent"]);

    // Times: `since` is inclusive, `until` exclusive.
    let t0 = Utc.with_ymd_and_hms(2020, 1, 1, 12, 0, 0).unwrap();
    for minutes in 0..3 {
        store
            .record(AuditRecord {
                at: t0 + TimeDelta::minutes(minutes),
                object_type: "clock",
                object_id: Some(minutes),
                ..audit(AuditAction::LoginFailed, None)
            })
            .await
            .unwrap();
    }
    let clocked = store
        .audit_entries(
            AuditFilter {
                since: Some(t0 + TimeDelta::minutes(1)),
                until: Some(t0 + TimeDelta::minutes(2)),
                ..Default::default()
            },
            page(1, 100),
        )
        .await
        .unwrap();
    assert_eq!(
        clocked
            .iter()
            .map(|e| (e.object_id, e.at))
            .collect::<Vec<_>>(),
        [(Some(1), t0 + TimeDelta::minutes(1))]
    );
    assert_eq!(
        list(AuditFilter {
            object_type: Some("clock".into()),
            object_id: Some(2),
            ..Default::default()
        })
        .await,
        ["auth.login_failed"]
    );
    let second_page = store
        .audit_entries(
            AuditFilter {
                object_type: Some("clock".into()),
                ..Default::default()
            },
            page(2, 1),
        )
        .await
        .unwrap();
    assert_eq!(second_page[0].object_id, Some(1));
}

pub async fn audit_log_refuses_updates_and_deletes(store: &Store) {
    let (store, mut raw) = crate::support::store_with_raw_db(store.kind()).await;
    audited_actions(&store).await;
    let before = audit_entries(&store).await;
    for sql in [
        "UPDATE audit_log SET action = 'message.read' WHERE action = 'message.sent'",
        "UPDATE audit_log SET client_addr = NULL",
        "DELETE FROM audit_log WHERE action = 'auth.login_succeeded'",
        "DELETE FROM audit_log",
    ] {
        let refused = raw.execute(sql).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("audit_log is append-only")),
            "{sql}: {refused:?}"
        );
    }
    assert_eq!(audit_entries(&store).await, before);
    assert!(store.verify_audit_chain().await.unwrap().is_intact());
}

pub async fn verify_audit_chain_reports_a_changed_entry_and_the_entry_after_a_removed_one(
    store: &Store,
) {
    use messaging_store::audit::ChainBreak;
    let (store, mut raw) = crate::support::store_with_raw_db(store.kind()).await;
    audited_actions(&store).await;
    // Ids with gaps, as rolled-back transactions leave them, are not mistaken for removals.
    raw.skip_audit_ids(5).await;
    audited_actions_again(&store).await;
    let verdict = store.verify_audit_chain().await.unwrap();
    assert!(verdict.is_intact(), "{verdict:?}");
    let entries = audit_entries(&store).await;
    let oldest_first: Vec<_> = entries.iter().rev().collect();
    assert!(
        oldest_first.windows(2).any(|p| p[1].id > p[0].id + 1),
        "the ids have a gap"
    );

    raw.bypass_append_only().await;
    let changed = oldest_first[4];
    raw.execute(&format!(
        "UPDATE audit_log SET action = 'message.tampered' WHERE id = {}",
        changed.id
    ))
    .await
    .unwrap();
    let verdict = store.verify_audit_chain().await.unwrap();
    assert_eq!(
        (verdict.broken, verdict.checked),
        (Some(ChainBreak::Changed { id: changed.id }), 4)
    );
    // Put back as it was, the entry matches its hash again.
    raw.execute(&format!(
        "UPDATE audit_log SET action = '{}' WHERE id = {}",
        changed.action, changed.id
    ))
    .await
    .unwrap();
    assert!(store.verify_audit_chain().await.unwrap().is_intact());

    // A removal shows at the next entry of the same actor's chain (each actor has its own).
    let next_in_chain = |i: usize| {
        oldest_first[i + 1..]
            .iter()
            .find(|e| e.actor_id == oldest_first[i].actor_id)
            .map(|e| e.id)
    };
    let removed_at = (1..oldest_first.len())
        .find(|&i| next_in_chain(i).is_some())
        .expect("an actor with two entries");
    raw.execute(&format!(
        "DELETE FROM audit_log WHERE id = {}",
        oldest_first[removed_at].id
    ))
    .await
    .unwrap();
    let verdict = store.verify_audit_chain().await.unwrap();
    assert_eq!(
        verdict.broken,
        next_in_chain(removed_at).map(|id| ChainBreak::FollowsRemoved { id })
    );

    // Removing an actor's very first entry breaks the link to the genesis value.
    let first_with_successor = (0..removed_at)
        .find(|&i| next_in_chain(i).is_some() && next_in_chain(i) != next_in_chain(removed_at))
        .unwrap_or(removed_at);
    if first_with_successor != removed_at {
        raw.execute(&format!(
            "DELETE FROM audit_log WHERE id = {}",
            oldest_first[first_with_successor].id
        ))
        .await
        .unwrap();
        let broken = store.verify_audit_chain().await.unwrap().broken;
        assert!(
            matches!(broken, Some(ChainBreak::FollowsRemoved { .. })),
            "{broken:?}"
        );
    }
}

/// More audited actions, by two other users.
async fn audited_actions_again(store: &Store) {
    let c = user(store, "cyd", Role::Student).await;
    let d = user(store, "dot", Role::Tutor).await;
    send(store, &c, &d, None, "again").await;
}

pub async fn audit_chain_stays_linear_under_concurrent_writers(store: &Store) {
    use messaging_domain::ports::AuditLog;
    let a = user(store, "ann", Role::Student).await;
    let b = user(store, "ben", Role::Tutor).await;
    let mut tasks = Vec::new();
    // One direction only: sends in both directions at once can deadlock on the two members' rows,
    // which is the message path's concern, not the chain's.
    for i in 0..40 {
        let store = store.clone();
        let (from, to) = (a.clone(), b.clone());
        tasks.push(tokio::spawn(async move {
            if i % 3 == 0 {
                store
                    .record(audit(AuditAction::LoginSucceeded, Some(from.id)))
                    .await
                    .unwrap();
            } else {
                send(&store, &from, &to, None, "busy").await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        store.verify_audit_chain().await.unwrap(),
        messaging_store::audit::AuditVerification {
            checked: 42,
            unsealed: 0,
            broken: None
        }
    );
}

pub async fn entries_from_before_the_chain_are_counted_apart(store: &Store) {
    use messaging_store::audit::{AuditVerification, GENESIS_HASH};
    let (store, mut raw) = crate::support::store_with_raw_db(store.kind()).await;
    // Rows as the table held them before the chain existed: no hashes.
    raw.execute(
        "INSERT INTO audit_log (actor_id, action, object_type, object_id, client_addr, at) \
         VALUES (1, 'auth.login_succeeded', 'user', 1, '10.0.0.1', '2020-01-01 00:00:00+00:00'), \
                (NULL, 'auth.login_failed', 'user', NULL, '10.0.0.2', '2020-01-01 00:01:00+00:00')",
    )
    .await
    .unwrap();
    audited_actions(&store).await;
    let oldest_first: Vec<_> = audit_entries(&store).await.into_iter().rev().collect();
    assert_eq!(
        oldest_first[2].prev_hash.as_deref(),
        Some(GENESIS_HASH),
        "the chain starts after them"
    );
    assert_eq!(
        store.verify_audit_chain().await.unwrap(),
        AuditVerification {
            checked: 8,
            unsealed: 2,
            broken: None
        }
    );
    // Once the chain has started, an entry without a hash is one whose hash was taken away.
    raw.execute(
        "INSERT INTO audit_log (actor_id, action, object_type, object_id, client_addr, at) \
         VALUES (1, 'auth.login_succeeded', 'user', 1, '10.0.0.1', '2020-01-01 00:00:00+00:00')",
    )
    .await
    .unwrap();
    let newest = audit_entries(&store).await[0].id;
    assert_eq!(
        store.verify_audit_chain().await.unwrap().broken,
        Some(messaging_store::audit::ChainBreak::Changed { id: newest })
    );
}

pub async fn messages_crossing_in_opposite_directions_do_not_deadlock(store: &Store) {
    let a = user(store, "cross_a", Role::Student).await;
    let b = user(store, "cross_b", Role::Tutor).await;
    // The first message creates the conversation; then both directions race.
    send(store, &a, &b, None, "hello").await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        let (from, to) = if i % 2 == 0 {
            (a.clone(), b.clone())
        } else {
            (b.clone(), a.clone())
        };
        tasks.push(tokio::spawn(async move {
            send(&store, &from, &to, None, &format!("crossing {i}")).await
        }));
    }
    for task in tasks {
        task.await
            .expect("no send failed (a deadlock would abort one)");
    }
    let counts_b = store.unread_counts(b.id).await.unwrap();
    let counts_a = store.unread_counts(a.id).await.unwrap();
    assert_eq!((counts_b.total, counts_a.total), (11, 10));
}
