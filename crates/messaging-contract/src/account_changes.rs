//! An admin's change to an account: role and active flag together, with their audit records, in
//! one transaction, read back through the account status, the sessions and the audit trail.

use chrono::{SubsecRound, Utc};
use messaging_domain::StoreError;
use messaging_domain::audit::{AUDIT_LIMIT, AuditAction, AuditFilter, AuditRecord};
use messaging_domain::ports::{AccountChange, SessionRecord};
use messaging_domain::text::{Page, PageNumber, PageSize};
use messaging_domain::user::{Role, UserId};

use crate::Backend;
use crate::support::{audit, user};

/// The actions of the audit log's entries about `user`, oldest first.
async fn actions_about<S: Backend>(store: &S, user: UserId) -> Vec<String> {
    let filter = AuditFilter {
        object_id: Some(user.0),
        object_type: Some("user".into()),
        ..AuditFilter::default()
    };
    let page = Page {
        number: PageNumber::parse(None).unwrap(),
        size: PageSize::parse(Some(50), AUDIT_LIMIT).unwrap(),
    };
    let mut actions: Vec<String> = store
        .audit_entries(filter, page)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    actions.reverse();
    actions
}

pub async fn a_role_and_a_deactivation_are_stored_and_audited_together<S: Backend>(store: &S) {
    let admin = user(store, "root", Role::Admin).await;
    let u = user(store, "tina", Role::Tutor).await;
    let now = Utc::now().trunc_subsecs(6);
    store
        .insert_session(SessionRecord {
            id_hash: "tina-a".into(),
            user_id: u.id,
            created_at: now,
            last_seen_at: now,
            revoked_at: None,
        })
        .await
        .unwrap();
    let before = store.account_status(u.id).await.unwrap().unwrap();
    let record = |action| AuditRecord {
        object_type: "user",
        object_id: Some(u.id.0),
        ..audit(action, Some(admin.id))
    };
    let changed = store
        .change_account(
            u.id,
            AccountChange {
                role: Some(Role::Student),
                active: Some(false),
            },
            vec![
                record(AuditAction::RoleChanged),
                record(AuditAction::UserDeactivated),
            ],
        )
        .await
        .unwrap();
    assert_eq!((changed.role, changed.is_active), (Role::Student, false));
    let after = store.account_status(u.id).await.unwrap().unwrap();
    assert_eq!(
        (after.role, after.active, after.credential_version),
        (Role::Student, false, before.credential_version + 1)
    );
    let session = store.session("tina-a".into()).await.unwrap();
    assert!(
        session.is_some_and(|s| s.revoked_at.is_some()),
        "sessions are revoked"
    );
    assert_eq!(
        actions_about(store, u.id).await,
        vec!["admin.role_changed", "admin.user_deactivated"]
    );

    // Reactivating alone changes the flag only; nothing else comes back.
    let again = store
        .change_account(
            u.id,
            AccountChange {
                role: None,
                active: Some(true),
            },
            vec![record(AuditAction::UserActivated)],
        )
        .await
        .unwrap();
    assert_eq!((again.role, again.is_active), (Role::Student, true));
    let status = store.account_status(u.id).await.unwrap().unwrap();
    assert_eq!(status.credential_version, after.credential_version);
}

pub async fn a_change_to_an_unknown_user_stores_and_audits_nothing<S: Backend>(store: &S) {
    let admin = user(store, "root", Role::Admin).await;
    let missing = UserId(987_654);
    let result = store
        .change_account(
            missing,
            AccountChange {
                role: Some(Role::Tutor),
                active: Some(false),
            },
            vec![AuditRecord {
                object_type: "user",
                object_id: Some(missing.0),
                ..audit(AuditAction::RoleChanged, Some(admin.id))
            }],
        )
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert!(actions_about(store, missing).await.is_empty());
}
