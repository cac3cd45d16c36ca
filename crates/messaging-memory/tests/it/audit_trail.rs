//! The audit log as admins read it from the in-memory store, which keeps no hash chain.

use chrono::{TimeDelta, Utc};
use messaging_contract::support::{audit, page, user};
use messaging_domain::audit::{AuditAction, AuditFilter};
use messaging_domain::ports::{AuditLog, AuditTrail};
use messaging_domain::user::Role;
use messaging_memory::MemoryStore;

#[tokio::test]
async fn audit_entries_are_listed_newest_first_filtered_and_paged() {
    let store = MemoryStore::new();
    let ada = user(&store, "ada", Role::Student).await;
    let start = Utc::now();
    // Ada's registration is entry 1; her three reads follow.
    for action in [
        AuditAction::MessageRead,
        AuditAction::ThreadRead,
        AuditAction::MessageRead,
    ] {
        store.record(audit(action, Some(ada.id))).await.unwrap();
    }
    let by_ada = AuditFilter {
        actor_id: Some(ada.id),
        ..AuditFilter::default()
    };
    let all = store
        .audit_entries(by_ada.clone(), page(1, 10))
        .await
        .unwrap();
    let ids: Vec<i64> = all.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![4, 3, 2, 1]);
    let second = store
        .audit_entries(by_ada.clone(), page(2, 2))
        .await
        .unwrap();
    assert_eq!(second.iter().map(|e| e.id).collect::<Vec<_>>(), vec![2, 1]);
    let reads = AuditFilter {
        action: Some("message.read".into()),
        since: Some(start - TimeDelta::seconds(1)),
        ..by_ada
    };
    let found = store.audit_entries(reads, page(1, 10)).await.unwrap();
    assert_eq!(found.iter().map(|e| e.id).collect::<Vec<_>>(), vec![4, 2]);
    let later = AuditFilter {
        since: Some(Utc::now() + TimeDelta::minutes(1)),
        ..AuditFilter::default()
    };
    assert!(
        store
            .audit_entries(later, page(1, 10))
            .await
            .unwrap()
            .is_empty()
    );

    let verification = store.verify_audit_chain().await.unwrap();
    assert_eq!((verification.checked, verification.is_intact()), (4, true));
}
