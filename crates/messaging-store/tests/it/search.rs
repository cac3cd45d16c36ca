//! Search over an older database: words the store fills in when it starts.

use messaging_domain::ports::MessageQueries;
use messaging_domain::text::SearchQuery;
use messaging_domain::user::{Role, UserId};
use messaging_store::Store;

use crate::support::{page, send, user};

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

/// The server's search upkeep: on PostgreSQL the words of new messages wait in the index's
/// pending list until a merge moves them into the index; `merge_search_backlog` does that, so a
/// second merge finds nothing left, and search finds the messages before and after it. SQLite
/// keeps nothing aside.
pub async fn pending_search_words_are_merged_and_still_found(store: &Store) {
    let a = user(store, "upkeep_a", Role::Student).await;
    let b = user(store, "upkeep_b", Role::Tutor).await;
    for i in 0..20 {
        send(store, &a, &b, None, &format!("upkeep budget {i}")).await;
    }
    assert_eq!(search_bodies(store, b.id, "upkeep").await.len(), 20);
    let moved = store.merge_search_backlog().await.unwrap();
    match store.kind() {
        messaging_store::DatabaseKind::Postgres => assert!(moved > 0, "pages moved: {moved}"),
        messaging_store::DatabaseKind::Sqlite => assert_eq!(moved, 0),
    }
    assert_eq!(store.merge_search_backlog().await.unwrap(), 0);
    assert_eq!(search_bodies(store, b.id, "upkeep").await.len(), 20);
    assert_eq!(search_bodies(store, a.id, "budg").await.len(), 20);
}
