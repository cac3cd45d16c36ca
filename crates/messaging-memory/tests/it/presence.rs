//! Who is connected: the records `MemoryStore::presence_touch`, `presence_leave` and
//! `presence_sweep` keep, as `PresenceStatus::online_since` reads them.

use chrono::{TimeDelta, Utc};
use messaging_domain::ports::PresenceStatus;
use messaging_domain::user::UserId;
use messaging_memory::MemoryStore;

#[tokio::test]
async fn a_user_is_online_since_a_time_only_when_some_instance_saw_them_then_or_later() {
    let store = MemoryStore::new();
    let (ada, bob) = (UserId(1), UserId(2));
    let now = Utc::now();
    let minute_ago = now - TimeDelta::minutes(1);
    assert!(!store.online_since(ada, minute_ago).await.unwrap());

    store.presence_touch("a", &[ada], minute_ago);
    assert!(
        store.online_since(ada, minute_ago).await.unwrap(),
        "at `since` counts"
    );
    assert!(
        !store.online_since(ada, now).await.unwrap(),
        "an older record is stale"
    );
    assert!(!store.online_since(bob, minute_ago).await.unwrap());

    // A second instance refreshes it; leaving one instance keeps the other's record.
    store.presence_touch("b", &[ada, bob], now);
    store.presence_leave("a", None);
    assert!(store.online_since(ada, now).await.unwrap());
    store.presence_leave("b", Some(&[ada]));
    assert!(!store.online_since(ada, minute_ago).await.unwrap());
    assert!(store.online_since(bob, now).await.unwrap());

    // An instance's heartbeat keeps every socket it recorded, whoever it names.
    let (carol, dave) = (UserId(3), UserId(4));
    store.presence_touch("c", &[carol], minute_ago);
    assert!(!store.online_since(carol, now).await.unwrap());
    store.presence_touch("c", &[dave], now);
    assert!(store.online_since(carol, now).await.unwrap());

    // An instance silent for long is forgotten with its sockets; one that beats is kept.
    store.presence_touch("d", &[ada], minute_ago);
    assert!(store.online_since(ada, minute_ago).await.unwrap());
    assert_eq!(store.presence_sweep(now - TimeDelta::seconds(30)), 1);
    assert!(!store.online_since(ada, minute_ago).await.unwrap());
    assert!(store.online_since(carol, now).await.unwrap());
    assert_eq!(store.presence_sweep(now - TimeDelta::seconds(30)), 0);
}
