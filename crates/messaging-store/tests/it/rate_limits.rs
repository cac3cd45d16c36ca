//! Shared rate limits, which only the PostgreSQL store keeps.

use std::sync::Arc;

/// Shared rate limits (PostgreSQL only): a burst, then a refusal naming the wait; several quotas
/// are taken all or nothing, and concurrent takers never get more than the burst.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_rate_limits_allow_the_burst_then_name_the_wait() {
    use std::time::Duration;

    use messaging_store::RateQuota;

    let Some(store) = crate::support::postgres_store().await else {
        return;
    };
    let quota = |key: &str, burst: u32| RateQuota {
        key: key.into(),
        interval: Duration::from_secs(3600),
        burst,
    };
    for _ in 0..3 {
        assert_eq!(store.take_rate(vec![quota("a", 3)]).await.unwrap(), None);
    }
    let wait = store.take_rate(vec![quota("a", 3)]).await.unwrap().unwrap();
    assert!(
        wait > Duration::from_secs(3590) && wait <= Duration::from_secs(3600),
        "{wait:?}"
    );
    // "b" has room, "a" has none: nothing is taken from "b".
    assert!(
        store
            .take_rate(vec![quota("b", 1), quota("a", 3)])
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.take_rate(vec![quota("b", 1)]).await.unwrap(), None);

    let store = Arc::new(store);
    let takers: Vec<_> = (0..20)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.take_rate(vec![quota("c", 5)]).await.unwrap() })
        })
        .collect();
    let mut allowed = 0;
    for taker in takers {
        if taker.await.unwrap().is_none() {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 5);
    // Nothing refilled yet, so sweeping keeps every key.
    assert_eq!(store.sweep_rate_limits().await.unwrap(), 0);
}
