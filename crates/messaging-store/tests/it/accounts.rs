//! Credentials: what deactivation and a password change revoke, and refresh tokens used twice at
//! once, on both backends (see `main.rs`).

use std::sync::Arc;

use chrono::{SubsecRound, TimeDelta, Utc};
use messaging_domain::accounts::{SessionKey, TicketRecord};
use messaging_domain::audit::AuditAction;
use messaging_domain::ports::{
    AccountStatuses, Administration, Credentials, RefreshOutcome, RefreshTokenRecord,
    SessionRecord, Sessions, Tickets,
};
use messaging_domain::user::{Role, UserId};
use messaging_store::Store;

use crate::support::{audit, user};

/// Gives `user` two sessions, a refresh token and a ticket, all live at `now`.
async fn credentials(store: &Store, user: UserId, tag: &str, now: chrono::DateTime<Utc>) {
    for session in ["a", "b"] {
        store
            .insert_session(SessionRecord {
                id_hash: format!("{tag}-{session}"),
                user_id: user,
                created_at: now,
                last_seen_at: now,
                revoked_at: None,
            })
            .await
            .unwrap();
    }
    store
        .insert_refresh_token(RefreshTokenRecord {
            token_hash: format!("{tag}-refresh"),
            user_id: user,
            family: format!("{tag}-family"),
            issued_at: now,
            expires_at: now + TimeDelta::days(1),
        })
        .await
        .unwrap();
    store
        .insert_ws_ticket(TicketRecord {
            ticket_hash: format!("{tag}-ticket"),
            user_id: user,
            credential_version: 0,
            session: None,
            expires_at: now + TimeDelta::seconds(30),
        })
        .await
        .unwrap();
}

async fn session_open(store: &Store, hash: &str) -> bool {
    store
        .session(hash.into())
        .await
        .unwrap()
        .is_some_and(|s| s.revoked_at.is_none())
}

pub async fn deactivation_raises_the_version_and_revokes_every_credential(store: &Store) {
    let u = user(store, "dee", Role::Student).await;
    let other = user(store, "dum", Role::Student).await;
    let now = Utc::now().trunc_subsecs(6);
    credentials(store, u.id, "dee", now).await;
    credentials(store, other.id, "dum", now).await;
    let before = store.account_status(u.id).await.unwrap().unwrap();
    assert!(before.active);

    Administration::set_user_active(
        store,
        u.id,
        false,
        audit(AuditAction::UserDeactivated, None),
    )
    .await
    .unwrap();
    let after = store.account_status(u.id).await.unwrap().unwrap();
    assert!(!after.active);
    assert_eq!(after.credential_version, before.credential_version + 1);
    assert!(!session_open(store, "dee-a").await);
    assert!(!session_open(store, "dee-b").await);
    assert_eq!(
        store
            .consume_refresh_token("dee-refresh".into(), now)
            .await
            .unwrap(),
        RefreshOutcome::Invalid
    );
    assert_eq!(
        store
            .redeem_ws_ticket("dee-ticket".into(), now)
            .await
            .unwrap(),
        None
    );

    // Reactivation brings none of it back, and nobody else lost anything.
    Administration::set_user_active(store, u.id, true, audit(AuditAction::UserActivated, None))
        .await
        .unwrap();
    let reactivated = store.account_status(u.id).await.unwrap().unwrap();
    assert!(reactivated.active);
    assert_eq!(reactivated.credential_version, after.credential_version);
    assert!(!session_open(store, "dee-a").await);
    assert!(session_open(store, "dum-a").await);
    assert!(
        store
            .redeem_ws_ticket("dum-ticket".into(), now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(matches!(
        store
            .consume_refresh_token("dum-refresh".into(), now)
            .await
            .unwrap(),
        RefreshOutcome::Valid { .. }
    ));
}

pub async fn a_password_change_keeps_one_session_and_revokes_the_rest(store: &Store) {
    let u = user(store, "pat", Role::Student).await;
    let now = Utc::now().trunc_subsecs(6);
    credentials(store, u.id, "pat", now).await;
    let before = store.account_status(u.id).await.unwrap().unwrap();
    store
        .set_password(
            u.id,
            "$argon2id$new".into(),
            Some(SessionKey("pat-a".into())),
            now,
            audit(AuditAction::PasswordChanged, Some(u.id)),
        )
        .await
        .unwrap();
    let (_, hash) = store.credentials_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(hash, "$argon2id$new");
    let after = store.account_status(u.id).await.unwrap().unwrap();
    assert_eq!(after.credential_version, before.credential_version + 1);
    assert!(session_open(store, "pat-a").await);
    assert!(!session_open(store, "pat-b").await);
    assert_eq!(
        store
            .consume_refresh_token("pat-refresh".into(), now)
            .await
            .unwrap(),
        RefreshOutcome::Invalid
    );
    assert_eq!(
        store
            .redeem_ws_ticket("pat-ticket".into(), now)
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        store
            .set_password(
                UserId(987_654),
                "x".into(),
                None,
                now,
                audit(AuditAction::PasswordChanged, None)
            )
            .await,
        Err(messaging_domain::StoreError::NotFound)
    ));
}

pub async fn an_unknown_user_has_no_account_status(store: &Store) {
    assert_eq!(store.account_status(UserId(987_654)).await.unwrap(), None);
}

pub async fn one_refresh_token_used_twice_at_once_is_a_reuse(store: &Store) {
    let u = user(store, "twice", Role::Student).await;
    let now = Utc::now().trunc_subsecs(6);
    for round in 0..5 {
        let hash = format!("twice-{round}");
        store
            .insert_refresh_token(RefreshTokenRecord {
                token_hash: hash.clone(),
                user_id: u.id,
                family: format!("twice-family-{round}"),
                issued_at: now,
                expires_at: now + TimeDelta::days(1),
            })
            .await
            .unwrap();
        let store = Arc::new(store.clone());
        let racers: Vec<_> = (0..4)
            .map(|_| {
                let (store, hash) = (Arc::clone(&store), hash.clone());
                tokio::spawn(async move { store.consume_refresh_token(hash, now).await.unwrap() })
            })
            .collect();
        let mut outcomes = Vec::new();
        for racer in racers {
            outcomes.push(racer.await.unwrap());
        }
        let valid = outcomes
            .iter()
            .filter(|o| matches!(o, RefreshOutcome::Valid { .. }))
            .count();
        let reused = outcomes
            .iter()
            .filter(|o| matches!(o, RefreshOutcome::Reused { .. }))
            .count();
        // One request wins; at least one other finds the token used and revokes the family
        // (those later still find it revoked).
        assert_eq!(valid, 1, "round {round}: {outcomes:?}");
        assert!(reused >= 1, "round {round}: {outcomes:?}");
        // The winner's successor, stored after the family was revoked, does not work either.
        let successor = format!("twice-next-{round}");
        store
            .insert_refresh_token(RefreshTokenRecord {
                token_hash: successor.clone(),
                user_id: u.id,
                family: format!("twice-family-{round}"),
                issued_at: now,
                expires_at: now + TimeDelta::days(1),
            })
            .await
            .unwrap();
        assert_eq!(
            store.consume_refresh_token(successor, now).await.unwrap(),
            RefreshOutcome::Invalid,
            "round {round}"
        );
    }
}

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
