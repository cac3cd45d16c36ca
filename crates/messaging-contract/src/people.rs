//! People: the directory, the patient list and the user list, blocks, bookings and care
//! assignments.

use messaging_domain::audit::AuditAction;
use messaging_domain::people::{DirectoryScope, NameQuery, UserFilter};
use messaging_domain::ports::Administration;
use messaging_domain::text::{LimitSpec, Page, PageNumber, PageSize};
use messaging_domain::user::{BlockState, BookingState, CareAssignment, Role, UserId};

use crate::Backend;
use crate::support::{audit, send, user};

fn names(people: &[messaging_domain::user::UserSummary]) -> Vec<String> {
    let mut names: Vec<String> = people.iter().map(|p| p.username.clone()).collect();
    names.sort();
    names
}

fn query(q: &str) -> Option<NameQuery> {
    NameQuery::parse(Some(q)).unwrap()
}

pub async fn each_directory_scope_finds_only_its_people<S: Backend>(store: &S) {
    let student = user(store, "stu", Role::Student).await;
    let booked = user(store, "tutor_booked", Role::Tutor).await;
    let cancelled = user(store, "tutor_cancelled", Role::Tutor).await;
    user(store, "tutor_other", Role::Tutor).await;
    let clinician = user(store, "doc", Role::Clinician).await;
    let patient = user(store, "pat", Role::Patient).await;
    user(store, "pat_other", Role::Patient).await;
    store
        .create_booking(
            student.id,
            booked.id,
            BookingState::Ended,
            audit(AuditAction::BookingCreated, None),
        )
        .await
        .unwrap();
    store
        .create_booking(
            student.id,
            cancelled.id,
            BookingState::Cancelled,
            audit(AuditAction::BookingCreated, None),
        )
        .await
        .unwrap();
    store
        .set_assignment(
            clinician.id,
            patient.id,
            true,
            audit(AuditAction::CareAssigned, None),
        )
        .await
        .unwrap();
    let find = |scope, q: Option<NameQuery>| async move {
        names(&store.find_people(scope, q, 50).await.unwrap())
    };
    assert_eq!(
        find(DirectoryScope::TutorsBookedWith(student.id), None).await,
        ["tutor_booked"]
    );
    assert_eq!(
        find(DirectoryScope::StudentsBookedWith(booked.id), None).await,
        ["stu"]
    );
    assert!(
        find(DirectoryScope::StudentsBookedWith(cancelled.id), None)
            .await
            .is_empty()
    );
    assert_eq!(
        find(DirectoryScope::PatientsAssignedTo(clinician.id), None).await,
        ["pat"]
    );
    assert!(find(DirectoryScope::Nobody, None).await.is_empty());
    let everyone = find(DirectoryScope::EveryoneBut(student.id), None).await;
    assert_eq!(everyone.len(), 6, "{everyone:?}");
    assert_eq!(
        find(DirectoryScope::EveryoneBut(student.id), query("TUTOR_O")).await,
        ["tutor_other"]
    );
    // Names match too (first and last name joined), and LIKE's wildcards are plain characters.
    assert_eq!(
        find(DirectoryScope::EveryoneBut(student.id), query("doc")).await,
        ["doc"]
    );
    assert!(
        find(DirectoryScope::EveryoneBut(student.id), query("_"))
            .await
            .len()
            >= 3
    );
    assert!(
        find(DirectoryScope::EveryoneBut(student.id), query("%"))
            .await
            .is_empty()
    );
    Administration::set_user_active(
        store,
        booked.id,
        false,
        audit(AuditAction::UserDeactivated, None),
    )
    .await
    .unwrap();
    assert!(
        find(DirectoryScope::TutorsBookedWith(student.id), None)
            .await
            .is_empty()
    );
}

pub async fn an_ended_assignment_leaves_the_directory_and_the_patient_list<S: Backend>(store: &S) {
    let clinician = user(store, "doc_end", Role::Clinician).await;
    let patient = user(store, "pat_end", Role::Patient).await;
    let set = |assigned: bool| {
        store.set_assignment(
            clinician.id,
            patient.id,
            assigned,
            audit(AuditAction::CareAssigned, None),
        )
    };
    let listed = || async {
        (
            names(
                &store
                    .find_people(DirectoryScope::PatientsAssignedTo(clinician.id), None, 50)
                    .await
                    .unwrap(),
            ),
            store.assigned_patients(clinician.id).await.unwrap().len(),
        )
    };
    set(true).await.unwrap();
    assert_eq!(listed().await, (vec!["pat_end".to_owned()], 1));
    set(false).await.unwrap();
    assert_eq!(listed().await, (Vec::<String>::new(), 0), "ended");
    set(true).await.unwrap();
    assert_eq!(listed().await, (vec!["pat_end".to_owned()], 1), "renewed");
}

pub async fn assigned_patients_come_with_the_last_visible_message_and_unread_count<S: Backend>(
    store: &S,
) {
    let clinician = user(store, "doc", Role::Clinician).await;
    let quiet = user(store, "pat_quiet", Role::Patient).await;
    let talking = user(store, "pat_talking", Role::Patient).await;
    for patient in [&quiet, &talking] {
        store
            .set_assignment(
                clinician.id,
                patient.id,
                true,
                audit(AuditAction::CareAssigned, None),
            )
            .await
            .unwrap();
    }
    send(store, &clinician, &talking, None, "How are you?").await;
    send(store, &talking, &clinician, None, "Better").await;
    let patients = store.assigned_patients(clinician.id).await.unwrap();
    assert_eq!(patients.len(), 2);
    assert_eq!(patients[0].patient.username, "pat_quiet");
    assert_eq!(
        (patients[0].last_message.clone(), patients[0].unread_count),
        (None, 0)
    );
    let last = patients[1].last_message.clone().unwrap();
    assert_eq!((last.body.as_str(), last.sender_id), ("Better", talking.id));
    assert_eq!(patients[1].unread_count, 1);
    assert!(
        store
            .assigned_patients(UserId(9999))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn the_user_list_filters_by_words_and_role_and_pages<S: Backend>(store: &S) {
    user(store, "alpha", Role::Student).await;
    user(store, "beta", Role::Tutor).await;
    user(store, "gamma", Role::Tutor).await;
    let page = |number: i64, size: i64| Page {
        number: PageNumber::parse(Some(number)).unwrap(),
        size: PageSize::parse(Some(size), LimitSpec::HISTORY).unwrap(),
    };
    let list = |filter: UserFilter, p: Page| async move {
        store
            .list_users(filter, p)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.username)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list(UserFilter::default(), page(1, 50)).await,
        ["alpha", "beta", "gamma"]
    );
    assert_eq!(
        list(
            UserFilter {
                query: None,
                role: Some(Role::Tutor)
            },
            page(1, 50)
        )
        .await,
        ["beta", "gamma"]
    );
    assert_eq!(
        list(
            UserFilter {
                query: query("GAMMA@EXAMPLE"),
                role: None
            },
            page(1, 50)
        )
        .await,
        ["gamma"]
    );
    assert_eq!(list(UserFilter::default(), page(2, 1)).await, ["beta"]);
}

pub async fn blocks_bookings_and_assignments_are_read_back<S: Backend>(store: &S) {
    let doc = user(store, "drmay", Role::Clinician).await;
    let pat = user(store, "pat", Role::Patient).await;
    let stu = user(store, "stu", Role::Student).await;
    let tut = user(store, "tut", Role::Tutor).await;
    let care = |clinician: UserId, patient: UserId| store.care_assignment(clinician, patient);
    assert_eq!(care(doc.id, pat.id).await.unwrap(), CareAssignment::Never);
    store
        .set_assignment(doc.id, pat.id, true, audit(AuditAction::CareAssigned, None))
        .await
        .unwrap();
    store
        .set_assignment(doc.id, pat.id, true, audit(AuditAction::CareAssigned, None))
        .await
        .unwrap();
    assert_eq!(care(doc.id, pat.id).await.unwrap(), CareAssignment::Current);
    assert_eq!(care(pat.id, doc.id).await.unwrap(), CareAssignment::Never);

    store
        .set_block(
            stu.id,
            tut.id,
            true,
            audit(AuditAction::UserBlocked, Some(stu.id)),
        )
        .await
        .unwrap();
    let seen_by_student = store.blocks_between(stu.id, tut.id).await.unwrap();
    assert!(seen_by_student.first_blocked_second && !seen_by_student.second_blocked_first);
    let seen_by_tutor = store.blocks_between(tut.id, stu.id).await.unwrap();
    assert!(seen_by_tutor.second_blocked_first && !seen_by_tutor.first_blocked_second);

    let booking = store
        .create_booking(
            stu.id,
            tut.id,
            BookingState::Requested,
            audit(AuditAction::BookingCreated, None),
        )
        .await
        .unwrap();
    let moved = store
        .set_booking_state(
            booking.id,
            BookingState::Active,
            audit(AuditAction::BookingStateChanged, None),
        )
        .await
        .unwrap();
    assert_eq!(moved.state, BookingState::Active);
    let between = store.bookings_between(tut.id, stu.id).await.unwrap();
    assert_eq!(between.len(), 1);
    assert!(between[0].is_between(stu.id, tut.id));
    assert!(
        store
            .bookings_between(tut.id, doc.id)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The read every send starts with: both parties and the blocks between them in one call, the
/// same as the separate reads, whichever way round they are asked and whoever blocked whom.
pub async fn a_send_reads_both_parties_with_the_blocks_between_them<S: Backend>(store: &S) {
    let ann = user(store, "annpair", Role::Student).await;
    let ben = user(store, "benpair", Role::Tutor).await;
    let cat = user(store, "catpair", Role::Tutor).await;
    let read = async |first: UserId, second: UserId| {
        let (mut users, blocks) = store.users_and_blocks(first, second).await.unwrap();
        users.sort_by_key(|u| u.id);
        let mut separately = store.users(vec![first, second]).await.unwrap();
        separately.sort_by_key(|u| u.id);
        assert_eq!(users, separately);
        assert_eq!(blocks, store.blocks_between(first, second).await.unwrap());
        (
            users.into_iter().map(|u| u.username).collect::<Vec<_>>(),
            blocks,
        )
    };
    let none = BlockState::default();
    assert_eq!(
        read(ann.id, ben.id).await,
        (vec!["annpair".into(), "benpair".into()], none)
    );

    store
        .set_block(
            ben.id,
            ann.id,
            true,
            audit(AuditAction::UserBlocked, Some(ben.id)),
        )
        .await
        .unwrap();
    let (_, by_ann) = read(ann.id, ben.id).await;
    assert_eq!(
        by_ann,
        BlockState {
            first_blocked_second: false,
            second_blocked_first: true
        }
    );
    let (_, by_ben) = read(ben.id, ann.id).await;
    assert_eq!(
        by_ben,
        BlockState {
            first_blocked_second: true,
            second_blocked_first: false
        }
    );
    // A block between two others is not this pair's.
    assert_eq!(read(ann.id, cat.id).await.1, none);
    assert_eq!(read(cat.id, ben.id).await.1, none);

    // An unknown recipient is left out; the sender alone comes back, and no block.
    let (users, blocks) = read(ann.id, UserId(i64::MAX)).await;
    assert_eq!((users, blocks), (vec!["annpair".to_owned()], none));
    assert_eq!(
        read(UserId(i64::MAX - 1), UserId(i64::MAX)).await,
        (vec![], none)
    );
    // Sending to oneself names one user once.
    assert_eq!(read(ann.id, ann.id).await.0, ["annpair"]);
}

pub async fn an_ended_care_assignment_is_remembered_and_can_be_renewed<S: Backend>(store: &S) {
    let doc = user(store, "drjune", Role::Clinician).await;
    let pat = user(store, "patjune", Role::Patient).await;
    let set = |assigned: bool| {
        store.set_assignment(
            doc.id,
            pat.id,
            assigned,
            audit(AuditAction::CareAssigned, None),
        )
    };
    let care = || store.care_assignment(doc.id, pat.id);
    let steps = [
        (true, true, CareAssignment::Current),
        (true, false, CareAssignment::Current),
        (false, true, CareAssignment::Former),
        (false, false, CareAssignment::Former),
        (true, true, CareAssignment::Current),
        (false, true, CareAssignment::Former),
    ];
    for (step, (assigned, changed, state)) in steps.into_iter().enumerate() {
        assert_eq!(
            set(assigned).await.unwrap(),
            changed,
            "step {step}: changed"
        );
        assert_eq!(care().await.unwrap(), state, "step {step}: state");
    }
}
