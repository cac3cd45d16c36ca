//! Tests for [`AdminService::update_account`] over mocks of its ports.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use futures_executor::block_on;

use super::*;
use crate::error::StoreError;
use crate::ports::MockEventPublisher;
use crate::service::admin::fake::{ADMIN, AdminPorts, TUTOR, actor, now, service, user};

/// What the store was asked to do: the change and the actions audited with it.
type Stored = Arc<Mutex<Vec<(UserId, AccountChange, Vec<AuditAction>)>>>;

fn ports(stored: &Stored) -> AdminPorts {
    let mut ports = AdminPorts::default();
    let stored = Arc::clone(stored);
    ports
        .changes
        .expect_change_account()
        .returning(move |id, change, audit| {
            for record in &audit {
                assert_eq!(
                    (record.actor, record.object_type, record.object_id),
                    (Some(ADMIN), "user", Some(id.0))
                );
                assert_eq!(record.at, now());
                assert_eq!(record.client_addr.as_deref(), Some("10.0.0.1"));
            }
            let actions = audit.iter().map(|r| r.action).collect();
            stored.lock().unwrap().push((id, change, actions));
            if id != TUTOR {
                return Err(StoreError::NotFound);
            }
            Ok(user(
                id,
                change.role.unwrap_or(Role::Tutor),
                change.active.unwrap_or(true),
            ))
        });
    ports
}

/// Records which accounts were announced as changed and which were disconnected.
fn events(
    changed: &Arc<Mutex<Vec<UserId>>>,
    kicked: &Arc<Mutex<Vec<UserId>>>,
) -> MockEventPublisher {
    let mut events = MockEventPublisher::new();
    let changed = Arc::clone(changed);
    events
        .expect_account_changed()
        .returning(move |who| changed.lock().unwrap().push(who));
    let kicked = Arc::clone(kicked);
    events.expect_disconnect().returning(move |who, session| {
        assert!(session.is_none(), "every session is closed, not one");
        kicked.lock().unwrap().push(who);
    });
    events
}

#[test]
fn role_and_state_change_together_in_one_store_call_audited_once_each() {
    for (case, change, actions, kicked) in [
        (
            "both, deactivating",
            AccountChange {
                role: Some(Role::Student),
                active: Some(false),
            },
            vec![AuditAction::RoleChanged, AuditAction::UserDeactivated],
            vec![TUTOR],
        ),
        (
            "both, activating",
            AccountChange {
                role: Some(Role::Clinician),
                active: Some(true),
            },
            vec![AuditAction::RoleChanged, AuditAction::UserActivated],
            vec![],
        ),
        (
            "role only",
            AccountChange {
                role: Some(Role::Admin),
                active: None,
            },
            vec![AuditAction::RoleChanged],
            vec![],
        ),
        (
            "deactivation only",
            AccountChange {
                role: None,
                active: Some(false),
            },
            vec![AuditAction::UserDeactivated],
            vec![TUTOR],
        ),
    ] {
        let stored = Stored::default();
        let (changed, disconnected) = (Arc::default(), Arc::default());
        let svc = service(ports(&stored), events(&changed, &disconnected), None);
        let updated = block_on(svc.update_account(&actor(ADMIN), TUTOR, change)).unwrap();
        assert_eq!(
            (Some(updated.role), Some(updated.is_active)),
            (
                Some(change.role.unwrap_or(Role::Tutor)),
                Some(change.active.unwrap_or(true))
            ),
            "{case}"
        );
        assert_eq!(
            stored.lock().unwrap().clone(),
            vec![(TUTOR, change, actions)],
            "{case}"
        );
        assert_eq!(changed.lock().unwrap().clone(), vec![TUTOR], "{case}");
        assert_eq!(disconnected.lock().unwrap().clone(), kicked, "{case}");
    }
}

#[test]
fn an_admin_who_would_demote_or_deactivate_themselves_changes_nothing_at_all() {
    for change in [
        AccountChange {
            role: Some(Role::Admin),
            active: Some(false),
        },
        AccountChange {
            role: Some(Role::Tutor),
            active: Some(true),
        },
        AccountChange {
            role: None,
            active: Some(false),
        },
    ] {
        let stored = Stored::default();
        let (changed, kicked) = (Arc::default(), Arc::default());
        let svc = service(ports(&stored), events(&changed, &kicked), None);
        let result = block_on(svc.update_account(&actor(ADMIN), ADMIN, change));
        assert!(
            matches!(result, Err(AdminError::SelfChange)),
            "{change:?}: {result:?}"
        );
        assert!(stored.lock().unwrap().is_empty(), "{change:?}");
        assert!(changed.lock().unwrap().is_empty(), "{change:?}");
    }
}

#[test]
fn a_change_naming_nothing_answers_the_account_as_it_is() {
    let stored = Stored::default();
    let (changed, kicked) = (Arc::default(), Arc::default());
    let svc = service(ports(&stored), events(&changed, &kicked), None);
    let same =
        block_on(svc.update_account(&actor(ADMIN), TUTOR, AccountChange::default())).unwrap();
    assert_eq!(same, user(TUTOR, Role::Tutor, true));
    assert!(stored.lock().unwrap().is_empty());
    assert!(changed.lock().unwrap().is_empty());
    let unknown = block_on(svc.update_account(&actor(ADMIN), UserId(42), AccountChange::default()));
    assert!(matches!(unknown, Err(AdminError::NotFound)), "{unknown:?}");
}

#[test]
fn only_an_active_admin_changes_accounts_and_an_unknown_user_is_not_found() {
    let change = AccountChange {
        role: Some(Role::Student),
        active: Some(false),
    };
    let stored = Stored::default();
    let (changed, kicked) = (Arc::default(), Arc::default());
    let svc = service(ports(&stored), events(&changed, &kicked), Some(ADMIN));
    let result = block_on(svc.update_account(&actor(ADMIN), TUTOR, change));
    assert!(matches!(result, Err(AdminError::NotAdmin)), "{result:?}");
    let result = block_on(svc.update_account(&actor(TUTOR), ADMIN, change));
    assert!(matches!(result, Err(AdminError::NotAdmin)), "{result:?}");
    assert!(stored.lock().unwrap().is_empty());

    let svc = service(ports(&stored), events(&changed, &kicked), None);
    let result = block_on(svc.update_account(&actor(ADMIN), UserId(42), change));
    assert!(matches!(result, Err(AdminError::NotFound)), "{result:?}");
    assert!(
        changed.lock().unwrap().is_empty(),
        "nothing changed, nothing announced"
    );
    assert!(kicked.lock().unwrap().is_empty());
}
