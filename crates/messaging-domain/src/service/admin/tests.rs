#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use futures_executor::block_on;

use super::*;
use crate::ports::{MockAdministration, MockClock, MockEventPublisher, MockPeople};

const ADMIN: UserId = UserId(1);
const STUDENT: UserId = UserId(2);
const TUTOR: UserId = UserId(3);
const CLINICIAN: UserId = UserId(4);
const PATIENT: UserId = UserId(5);

fn user(id: UserId, role: Role, active: bool) -> User {
    User {
        id,
        username: format!("u{}", id.0),
        email: format!("u{}@example.com", id.0),
        first_name: String::new(),
        last_name: String::new(),
        role,
        is_active: active,
    }
}

fn directory(deactivated: Option<UserId>) -> MockPeople {
    let mut d = MockPeople::new();
    d.expect_user().returning(move |id| {
        let role = match id {
            ADMIN => Role::Admin,
            STUDENT => Role::Student,
            TUTOR => Role::Tutor,
            CLINICIAN => Role::Clinician,
            PATIENT => Role::Patient,
            _ => return Ok(None),
        };
        Ok(Some(user(id, role, Some(id) != deactivated)))
    });
    d
}

fn clock() -> MockClock {
    let mut c = MockClock::new();
    c.expect_now()
        .returning(|| Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap());
    c
}

fn actor(id: UserId) -> Actor {
    Actor {
        user_id: id,
        client_addr: Some("10.0.0.1".into()),
    }
}

fn service(
    admin: MockAdministration,
    deactivated: Option<UserId>,
) -> AdminService<MockAdministration, MockPeople, MockEventPublisher, MockClock> {
    service_with_events(admin, deactivated, MockEventPublisher::new())
}

fn service_with_events(
    admin: MockAdministration,
    deactivated: Option<UserId>,
    events: MockEventPublisher,
) -> AdminService<MockAdministration, MockPeople, MockEventPublisher, MockClock> {
    AdminService::new(admin, directory(deactivated), events, clock())
}

#[test]
fn non_admins_change_nothing() {
    for who in [STUDENT, TUTOR, CLINICIAN, PATIENT] {
        // No expectation on the administration port: any call would panic.
        let svc = service(MockAdministration::new(), None);
        let result = block_on(svc.set_active(&actor(who), TUTOR, false));
        assert!(
            matches!(result, Err(AdminError::NotAdmin)),
            "{who:?}: {result:?}"
        );
        let result =
            block_on(svc.create_booking(&actor(who), STUDENT, TUTOR, BookingState::Active));
        assert!(
            matches!(result, Err(AdminError::NotAdmin)),
            "{who:?}: {result:?}"
        );
    }
}

#[test]
fn a_deactivated_admin_is_not_an_admin() {
    let svc = service(MockAdministration::new(), Some(ADMIN));
    let result = block_on(svc.set_role(&actor(ADMIN), STUDENT, Role::Tutor));
    assert!(matches!(result, Err(AdminError::NotAdmin)), "{result:?}");
}

#[test]
fn admins_cannot_deactivate_or_demote_themselves() {
    let svc = service(MockAdministration::new(), None);
    assert!(matches!(
        block_on(svc.set_active(&actor(ADMIN), ADMIN, false)),
        Err(AdminError::SelfChange)
    ));
    assert!(matches!(
        block_on(svc.set_role(&actor(ADMIN), ADMIN, Role::Tutor)),
        Err(AdminError::SelfChange)
    ));
}

#[test]
fn bookings_need_an_active_student_and_an_active_tutor() {
    #[track_caller]
    fn check(student: UserId, tutor: UserId, deactivated: Option<UserId>, ok: bool) {
        let mut admin = MockAdministration::new();
        if ok {
            admin
                .expect_create_booking()
                .times(1)
                .returning(|s, t, state, audit| {
                    assert_eq!(audit.action, AuditAction::BookingCreated);
                    assert_eq!(audit.actor, Some(ADMIN));
                    Ok(Booking {
                        id: BookingId(9),
                        student_id: s,
                        tutor_id: t,
                        state,
                        created_at: audit.at,
                    })
                });
        }
        let svc = service(admin, deactivated);
        let result =
            block_on(svc.create_booking(&actor(ADMIN), student, tutor, BookingState::Scheduled));
        assert_eq!(result.is_ok(), ok, "{result:?}");
        if !ok {
            assert!(
                matches!(result, Err(AdminError::WrongRoles(_))),
                "{result:?}"
            );
        }
    }
    check(STUDENT, TUTOR, None, true);
    check(TUTOR, STUDENT, None, false);
    check(STUDENT, CLINICIAN, None, false);
    check(STUDENT, UserId(99), None, false);
    check(STUDENT, TUTOR, Some(TUTOR), false);
}

#[test]
fn assignments_need_a_clinician_and_a_patient_and_are_audited_by_direction() {
    let mut admin = MockAdministration::new();
    admin
        .expect_set_assignment()
        .times(2)
        .returning(|c, p, assigned, audit| {
            assert_eq!((c, p), (CLINICIAN, PATIENT));
            let expected = if assigned {
                AuditAction::CareAssigned
            } else {
                AuditAction::CareUnassigned
            };
            assert_eq!(audit.action, expected);
            assert_eq!(audit.client_addr.as_deref(), Some("10.0.0.1"));
            Ok(true)
        });
    let svc = service(admin, None);
    assert!(block_on(svc.set_assignment(&actor(ADMIN), CLINICIAN, PATIENT, true)).unwrap());
    assert!(block_on(svc.set_assignment(&actor(ADMIN), CLINICIAN, PATIENT, false)).unwrap());
    let swapped = block_on(svc.set_assignment(&actor(ADMIN), PATIENT, CLINICIAN, true));
    assert!(
        matches!(swapped, Err(AdminError::WrongRoles(_))),
        "{swapped:?}"
    );
}

#[test]
fn an_unknown_user_or_booking_is_not_found() {
    let mut admin = MockAdministration::new();
    admin
        .expect_set_user_active()
        .returning(|_, _, _| Err(StoreError::NotFound));
    admin
        .expect_set_booking_state()
        .returning(|_, _, _| Err(StoreError::NotFound));
    let svc = service(admin, None);
    assert!(matches!(
        block_on(svc.set_active(&actor(ADMIN), UserId(42), true)),
        Err(AdminError::NotFound)
    ));
    assert!(matches!(
        block_on(svc.set_booking_state(&actor(ADMIN), BookingId(42), BookingState::Ended)),
        Err(AdminError::NotFound)
    ));
}

#[test]
fn deactivating_closes_every_socket_of_the_account_and_activating_closes_none() {
    #[track_caller]
    fn check(active: bool, disconnects: usize) {
        let mut admin = MockAdministration::new();
        admin
            .expect_set_user_active()
            .times(1)
            .returning(|id, active, _| Ok(user(id, Role::Tutor, active)));
        let mut events = MockEventPublisher::new();
        events
            .expect_account_changed()
            .withf(|who| *who == TUTOR)
            .times(1)
            .return_const(());
        events
            .expect_disconnect()
            .withf(|who, session| *who == TUTOR && session.is_none())
            .times(disconnects)
            .return_const(());
        let svc = service_with_events(admin, None, events);
        let changed = block_on(svc.set_active(&actor(ADMIN), TUTOR, active)).unwrap();
        assert_eq!(changed.is_active, active);
    }
    check(false, 1);
    check(true, 0);
}
