//! What the store's reads cost: a list costs the same number of queries however long it is.

use messaging_domain::audit::AuditAction;
use messaging_domain::ports::{Administration, MessageQueries, PeopleSearch};
use messaging_domain::text::{LimitSpec, PageSize};
use messaging_domain::user::Role;
use messaging_store::Store;

use crate::support::{audit, send, user};

fn threads_limit() -> PageSize {
    PageSize::parse(None, LimitSpec::THREADS).unwrap()
}

pub async fn thread_list_costs_the_same_queries_for_one_or_forty_conversations(store: &Store) {
    let me = user(store, "busy", Role::Tutor).await;
    let first = user(store, "first", Role::Student).await;
    send(store, &first, &me, None, "hello").await;
    let before = store.queries_executed();
    assert_eq!(
        store.threads(me.id, threads_limit()).await.unwrap().len(),
        1
    );
    let one = store.queries_executed() - before;

    for i in 0..39 {
        let other = user(store, &format!("student{i}"), Role::Student).await;
        send(store, &other, &me, None, "hi").await;
    }
    let before = store.queries_executed();
    assert_eq!(
        store.threads(me.id, threads_limit()).await.unwrap().len(),
        40
    );
    let forty = store.queries_executed() - before;
    assert_eq!(
        one, forty,
        "the thread list must not run a query per conversation"
    );
    assert!(
        forty <= 2,
        "one query (plus at most a connection check), got {forty}"
    );
}

pub async fn the_patient_list_is_one_query_however_many_patients(store: &Store) {
    let clinician = user(store, "doc", Role::Clinician).await;
    let mut patients = Vec::new();
    for i in 0..5 {
        let patient = user(store, &format!("pat_{i}"), Role::Patient).await;
        store
            .set_assignment(
                clinician.id,
                patient.id,
                true,
                audit(AuditAction::CareAssigned, None),
            )
            .await
            .unwrap();
        send(store, &clinician, &patient, None, "How are you?").await;
        patients.push(patient);
    }
    send(store, &patients[0], &clinician, None, "Better").await;
    let before = store.queries_executed();
    let listed = store.assigned_patients(clinician.id).await.unwrap();
    let spent = store.queries_executed() - before;
    assert_eq!(listed.len(), 5);
    assert!(
        spent <= 2,
        "one query for the whole list (plus at most a connection check), got {spent}"
    );
}

/// Sends made at the same moment share their transaction on PostgreSQL (group commit): thirty of
/// them cost a fraction of thirty lone sends' statements. SQLite commits each on its own.
pub async fn sends_at_the_same_moment_share_their_statements(store: &Store) {
    use messaging_contract::send_with_events;
    let mut people = Vec::new();
    for i in 0..31 {
        people.push(user(store, &format!("group{i}"), Role::Student).await);
    }
    // Every conversation exists first: a conversation's first message is sent on its own.
    for pair in people.windows(2) {
        send_with_events(store, &pair[0], &pair[1], "first", None)
            .await
            .unwrap();
    }
    let before = store.queries_executed();
    send_with_events(store, &people[0], &people[1], "alone", None)
        .await
        .unwrap();
    let alone = store.queries_executed() - before;

    let before = store.queries_executed();
    let sent = futures_util::future::join_all(
        people
            .windows(2)
            .map(|pair| send_with_events(store, &pair[0], &pair[1], "together", None)),
    )
    .await;
    let together = store.queries_executed() - before;
    assert!(sent.iter().all(Result::is_ok), "{sent:?}");
    if store.kind() == messaging_store::DatabaseKind::Sqlite {
        assert_eq!(together, 30 * alone, "SQLite commits each send on its own");
        return;
    }
    assert!(
        together * 3 <= 30 * alone,
        "30 sends at once took {together} statements; one alone takes {alone}"
    );
}
