//! Search: what it finds, the same on every backend, and what it never finds.

use messaging_domain::Change;
use messaging_domain::text::SearchQuery;
use messaging_domain::user::{Role, UserId};

use crate::Backend;
use crate::support::{page, send, user};

pub(crate) async fn search_bodies<S: Backend>(store: &S, user: UserId, q: &str) -> Vec<String> {
    store
        .search(user, &SearchQuery::parse(q).unwrap(), page(1, 50))
        .await
        .unwrap()
        .messages
        .into_iter()
        .map(|m| m.body)
        .collect()
}

pub async fn search_finds_ranked_matches_and_never_messages_deleted_for_the_caller<S: Backend>(
    store: &S,
) {
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
pub async fn search_finds_a_words_beginning_and_digits_inside_tokens_alike<S: Backend>(store: &S) {
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

pub async fn search_treats_query_syntax_as_plain_words<S: Backend>(store: &S) {
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
