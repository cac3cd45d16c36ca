#![allow(clippy::unwrap_used)]

use super::*;

fn user(id: i64, role: Role, active: bool) -> User {
    User {
        id: UserId(id),
        username: format!("user{id}"),
        email: format!("user{id}@example.com"),
        first_name: String::new(),
        last_name: String::new(),
        role,
        is_active: active,
    }
}

#[track_caller]
fn check(caller: User, expected: DirectoryScope) {
    assert_eq!(directory_scope(&caller), expected);
}

#[test]
fn a_student_finds_only_the_tutors_they_booked() {
    check(
        user(1, Role::Student, true),
        DirectoryScope::TutorsBookedWith(UserId(1)),
    );
}

#[test]
fn a_tutor_finds_only_the_students_who_booked_them() {
    check(
        user(2, Role::Tutor, true),
        DirectoryScope::StudentsBookedWith(UserId(2)),
    );
}

#[test]
fn a_clinician_finds_only_assigned_patients() {
    check(
        user(3, Role::Clinician, true),
        DirectoryScope::PatientsAssignedTo(UserId(3)),
    );
}

#[test]
fn a_patient_finds_nobody_since_patients_do_not_start_conversations() {
    check(user(4, Role::Patient, true), DirectoryScope::Nobody);
}

#[test]
fn an_admin_finds_everyone_but_themselves() {
    check(
        user(5, Role::Admin, true),
        DirectoryScope::EveryoneBut(UserId(5)),
    );
}

#[test]
fn an_inactive_caller_finds_nobody_whatever_their_role() {
    for role in Role::ALL {
        check(user(6, role, false), DirectoryScope::Nobody);
    }
}

#[test]
fn a_name_query_is_trimmed_lowercased_and_bounded() {
    assert_eq!(NameQuery::parse(None), Ok(None));
    assert_eq!(NameQuery::parse(Some("   ")), Ok(None));
    assert_eq!(
        NameQuery::parse(Some("  Ada L ")).map(|q| q.map(|q| q.as_str().to_owned())),
        Ok(Some("ada l".to_owned()))
    );
    assert!(NameQuery::parse(Some(&"x".repeat(101))).is_err());
}

#[test]
fn the_directory_and_the_patient_list_mask_other_peoples_names() {
    use crate::ports::{MockPeople, MockPeopleSearch, MockPresenceSettings};
    let named = |id: i64, role: Role| UserSummary {
        id: UserId(id),
        username: format!("user{id}"),
        first_name: "Reach me on whatsapp at johnny99".to_owned(),
        last_name: "call 555-1234".to_owned(),
        role,
    };
    let mut search = MockPeopleSearch::new();
    search
        .expect_find_people()
        .returning(move |_, _, _| Ok(vec![named(2, Role::Patient)]));
    search.expect_assigned_patients().returning(move |_| {
        Ok(vec![PatientSummary {
            patient: named(2, Role::Patient),
            last_message: None,
            unread_count: 0,
        }])
    });
    let mut people = MockPeople::new();
    people
        .expect_user()
        .returning(|id| Ok(Some(user(id.0, Role::Clinician, true))));
    let service = PeopleService::new(search, people, MockPresenceSettings::new());
    let actor = Actor {
        user_id: UserId(1),
        client_addr: None,
    };
    let masked = (
        "Reach me on whatsapp at ***".to_owned(),
        "call ***-****".to_owned(),
    );
    let names = |face: &UserSummary| (face.first_name.clone(), face.last_name.clone());
    let found = futures_executor::block_on(service.directory(&actor, None)).unwrap();
    assert_eq!(names(&found[0]), masked, "directory");
    let patients = futures_executor::block_on(service.clinician_patients(&actor)).unwrap();
    assert_eq!(names(&patients[0].patient), masked, "patient list");
}
