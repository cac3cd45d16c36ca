//! Tests for the admins' reads of the audit log over mocks of its ports.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_executor::block_on;

use super::*;
use crate::audit::{AuditFilter, ChainBreak};
use crate::ports::MockEventPublisher;
use crate::service::admin::fake::{ADMIN, AdminPorts, TUTOR, actor, service};

fn listing(expected: AuditFilter) -> AdminPorts {
    let mut ports = AdminPorts::default();
    ports
        .trail
        .expect_audit_entries()
        .times(1)
        .returning(move |filter, page| {
            assert_eq!(filter, expected);
            assert_eq!((page.number.get(), page.size.get()), (2, 10));
            Ok(Vec::new())
        });
    ports
}

#[test]
fn an_admin_lists_a_page_as_asked() {
    let svc = service(
        listing(AuditFilter {
            actor_id: Some(TUTOR),
            action: Some("message.sent".into()),
            object_type: None,
            object_id: Some(7),
            since: Some(chrono::DateTime::from_timestamp(1_763_717_400, 0).unwrap()),
            until: None,
        }),
        MockEventPublisher::new(),
        None,
    );
    let query = AuditQuery {
        actor_id: Some(TUTOR.0),
        action: Some("message.sent".into()),
        object_type: Some(String::new()),
        object_id: Some(7),
        since: Some("2025-11-21T09:30:00Z".into()),
        until: None,
        page: Some(2),
        limit: Some(10),
    };
    let (entries, page) = block_on(svc.audit_entries(&actor(ADMIN), query)).unwrap();
    assert!(entries.is_empty());
    assert_eq!((page.number.get(), page.size.get()), (2, 10));
}

#[test]
fn a_non_admin_is_refused_before_the_request_is_read() {
    let bad = AuditQuery {
        since: Some("yesterday".into()),
        ..AuditQuery::default()
    };
    // No expectation on the trail: any read would panic.
    let svc = service(AdminPorts::default(), MockEventPublisher::new(), None);
    let result = block_on(svc.audit_entries(&actor(TUTOR), bad.clone()));
    assert!(
        matches!(result, Err(AuditReadError::NotAdmin)),
        "{result:?}"
    );
    let result = block_on(svc.verify_audit_chain(&actor(TUTOR)));
    assert!(matches!(result, Err(AdminError::NotAdmin)), "{result:?}");
    let result = block_on(svc.audit_entries(&actor(ADMIN), bad));
    assert!(
        matches!(
            result,
            Err(AuditReadError::Validation(ValidationError::Malformed {
                field: "since",
                ..
            }))
        ),
        "{result:?}"
    );
    let deactivated = service(
        AdminPorts::default(),
        MockEventPublisher::new(),
        Some(ADMIN),
    );
    let result = block_on(deactivated.audit_entries(&actor(ADMIN), AuditQuery::default()));
    assert!(
        matches!(result, Err(AuditReadError::NotAdmin)),
        "{result:?}"
    );
}

#[test]
fn filters_that_cannot_be_stored_names_are_refused() {
    for (case, query, field) in [
        (
            "upper case action",
            AuditQuery {
                action: Some("Message.Sent".into()),
                ..AuditQuery::default()
            },
            "action",
        ),
        (
            "long object type",
            AuditQuery {
                object_type: Some("a".repeat(65)),
                ..AuditQuery::default()
            },
            "object_type",
        ),
        (
            "until not RFC 3339",
            AuditQuery {
                until: Some("2025-11-21".into()),
                ..AuditQuery::default()
            },
            "until",
        ),
        (
            "limit over 200",
            AuditQuery {
                limit: Some(201),
                ..AuditQuery::default()
            },
            "limit",
        ),
    ] {
        let svc = service(AdminPorts::default(), MockEventPublisher::new(), None);
        let result = block_on(svc.audit_entries(&actor(ADMIN), query));
        match result {
            Err(AuditReadError::Validation(err)) => assert_eq!(err.field(), field, "{case}"),
            other => panic!("{case}: {other:?}"),
        }
    }
}

#[test]
fn an_admin_verifies_the_chain_and_learns_where_it_breaks() {
    let mut ports = AdminPorts::default();
    ports
        .trail
        .expect_verify_audit_chain()
        .times(1)
        .returning(|| {
            Ok(AuditVerification {
                checked: 4,
                unsealed: 1,
                broken: Some(ChainBreak::FollowsRemoved { id: 9 }),
            })
        });
    let svc = service(ports, MockEventPublisher::new(), None);
    let found = block_on(svc.verify_audit_chain(&actor(ADMIN))).unwrap();
    assert!(!found.is_intact());
    assert_eq!(found.broken.map(|b| b.id()), Some(9));
}
