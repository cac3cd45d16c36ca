//! Accounts and credentials: unique login names, refresh-token families, and what deactivation
//! and a password change revoke.

use std::sync::Arc;

use chrono::{SubsecRound, TimeDelta, Utc};
use messaging_domain::StoreError;
use messaging_domain::accounts::{EmailAddress, NewAccount, SessionKey, TicketRecord, Username};
use messaging_domain::audit::AuditAction;
use messaging_domain::ports::{Administration, RefreshOutcome, RefreshTokenRecord, SessionRecord};
use messaging_domain::user::{Role, UserId};

use crate::Backend;
use crate::support::{audit, user};

/// Gives `user` two sessions, a refresh token and a ticket, all live at `now`.
async fn credentials<S: Backend>(store: &S, user: UserId, tag: &str, now: chrono::DateTime<Utc>) {
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

async fn session_open<S: Backend>(store: &S, hash: &str) -> bool {
    store
        .session(hash.into())
        .await
        .unwrap()
        .is_some_and(|s| s.revoked_at.is_none())
}

pub async fn deactivation_raises_the_version_and_revokes_every_credential<S: Backend>(store: &S) {
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

pub async fn a_password_change_keeps_one_session_and_revokes_the_rest<S: Backend>(store: &S) {
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

pub async fn an_unknown_user_has_no_account_status<S: Backend>(store: &S) {
    assert_eq!(store.account_status(UserId(987_654)).await.unwrap(), None);
}

pub async fn one_refresh_token_used_twice_at_once_is_a_reuse<S: Backend>(store: &S) {
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

pub async fn a_reused_refresh_token_revokes_its_whole_family<S: Backend>(store: &S) {
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

pub async fn usernames_are_unique_whatever_their_case<S: Backend>(store: &S) {
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
