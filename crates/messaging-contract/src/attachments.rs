//! The attachment part of the store's contract (run on both backends through `contract`).

use crate::Backend;
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use messaging_domain::Change;
use messaging_domain::StoreError;
use messaging_domain::attachment::{
    Attachment, AttachmentId, FileInspector, FileKind, NewAttachment, PendingUpload, ScanStatus,
    StorageKey,
};
use messaging_domain::audit::AuditAction;
use messaging_domain::message::{Message, NewMessage};
use messaging_domain::text::{LimitSpec, PageSize};
use messaging_domain::user::{Role, User};

use crate::support::{audit, no_events, page, user};

fn new_message(from: &User, to: &User) -> NewMessage {
    NewMessage {
        sender_id: from.id,
        recipient_id: to.id,
        booking_id: None,
        subject: None,
        body: "see attached".into(),
        parent_id: None,
        client_message_id: None,
        created_at: Utc::now().trunc_subsecs(6),
    }
}

fn key(uploader: &User, nonce: u8) -> StorageKey {
    StorageKey::new(uploader.id, [nonce; 16], FileKind::Png)
}

fn new_png(key: StorageKey) -> NewAttachment {
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    png.extend_from_slice(&640u32.to_be_bytes());
    png.extend_from_slice(&480u32.to_be_bytes());
    let mut inspector = FileInspector::new("../holiday photo.png");
    inspector.feed(&png).unwrap();
    NewAttachment {
        file: inspector.finish().unwrap(),
        storage_key: key,
        scan_status: ScanStatus::Pending,
        created_at: Utc::now().trunc_subsecs(6),
    }
}

async fn begin<S: Backend>(
    store: &S,
    key: &StorageKey,
    uploader: &User,
    started_at: DateTime<Utc>,
) {
    store
        .begin_upload(PendingUpload {
            key: key.clone(),
            uploader: uploader.id,
            started_at,
        })
        .await
        .unwrap();
}

/// Commits a message from `from` to `to` with the file uploaded under `key`.
async fn commit<S: Backend>(
    store: &S,
    from: &User,
    to: &User,
    key: &StorageKey,
) -> Result<(Message, Attachment), StoreError> {
    store
        .insert_message_with_attachment(
            new_message(from, to),
            new_png(key.clone()),
            Change::new(audit(AuditAction::MessageSent, Some(from.id)), no_events()),
            audit(AuditAction::AttachmentUploaded, Some(from.id)),
        )
        .await
        .map(|r| r.value)
}

/// Records an upload and commits its message, as a send with a file does.
async fn send_with_file<S: Backend>(store: &S, from: &User, to: &User, nonce: u8) -> Attachment {
    let key = key(from, nonce);
    begin(store, &key, from, Utc::now()).await;
    commit(store, from, to, &key).await.unwrap().1
}

fn a_long_time_from_now() -> DateTime<Utc> {
    Utc::now() + TimeDelta::days(1)
}

pub async fn a_message_and_its_attachment_are_stored_together_and_read_back<S: Backend>(store: &S) {
    let alice = user(store, "alice", Role::Student).await;
    let bob = user(store, "bob", Role::Tutor).await;
    let key = key(&alice, 0x5a);
    begin(store, &key, &alice, Utc::now()).await;
    let (message, attachment) = commit(store, &alice, &bob, &key).await.unwrap();
    assert_eq!(
        attachment.storage_key.as_str(),
        format!("messages/{}/{}.png", alice.id.0, "5a".repeat(16))
    );
    assert_eq!(attachment.file_name.as_str(), "holiday photo.png");
    assert_eq!(attachment.dimensions, Some((640, 480)));
    assert_eq!(attachment.scan_status, ScanStatus::Pending);
    // Committing ended the upload: the sweep never takes its object.
    assert_eq!(
        store
            .abandon_uploads(a_long_time_from_now(), 10)
            .await
            .unwrap(),
        Vec::<StorageKey>::new()
    );

    let (read, with) = store.attachment(attachment.id).await.unwrap().unwrap();
    assert_eq!(read, attachment);
    assert_eq!(with, message);
    assert_eq!(
        store.attachments_of(vec![message.id]).await.unwrap(),
        vec![attachment.clone()]
    );
    // The message is an ordinary one: it shows in both members' threads.
    let threads = store
        .threads(bob.id, PageSize::parse(None, LimitSpec::THREADS).unwrap())
        .await
        .unwrap();
    assert_eq!(threads.len(), 1);
    assert!(
        store
            .attachment(AttachmentId(attachment.id.0 + 1000))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn a_message_whose_upload_was_abandoned_is_not_stored<S: Backend>(store: &S) {
    let alice = user(store, "alice", Role::Student).await;
    let bob = user(store, "bob", Role::Tutor).await;
    let key = key(&alice, 0x01);
    begin(store, &key, &alice, Utc::now()).await;
    // The sweep takes the upload for abandoned before its message commits.
    assert_eq!(
        store
            .abandon_uploads(a_long_time_from_now(), 10)
            .await
            .unwrap(),
        vec![key.clone()]
    );
    let result = commit(store, &alice, &bob, &key).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert!(store.sent(alice.id, page(1, 20)).await.unwrap().is_empty());
    assert!(
        store
            .conversations_between(alice.id, bob.id)
            .await
            .unwrap()
            .is_empty()
    );
    for member in [alice.id, bob.id] {
        assert!(
            store
                .threads(member, PageSize::parse(None, LimitSpec::THREADS).unwrap())
                .await
                .unwrap()
                .is_empty()
        );
    }
    assert!(store.unscanned(Utc::now(), 10).await.unwrap().is_empty());
    // A message without a file still goes through afterwards.
    store
        .insert_message(
            new_message(&alice, &bob),
            Change::new(audit(AuditAction::MessageSent, Some(alice.id)), no_events()),
        )
        .await
        .unwrap();
}

pub async fn uploads_are_abandoned_oldest_first_once_old_enough_until_forgotten<S: Backend>(
    store: &S,
) {
    let alice = user(store, "alice", Role::Student).await;
    let bob = user(store, "bob", Role::Tutor).await;
    let now = Utc::now().trunc_subsecs(6);
    let keys: Vec<StorageKey> = (1..=3).map(|n| key(&alice, n)).collect();
    // Started three, two and one minute ago, recorded newest first.
    for (minutes, key) in [(1, &keys[2]), (2, &keys[1]), (3, &keys[0])] {
        begin(store, key, &alice, now - TimeDelta::minutes(minutes)).await;
    }
    let duplicate = store
        .begin_upload(PendingUpload {
            key: keys[0].clone(),
            uploader: alice.id,
            started_at: now,
        })
        .await;
    assert!(
        matches!(
            duplicate,
            Err(StoreError::Duplicate(messaging_domain::Unique::StorageKey))
        ),
        "{duplicate:?}"
    );
    let cutoff = now - TimeDelta::seconds(90);
    assert_eq!(store.abandon_uploads(cutoff, 1).await.unwrap(), keys[..1]);
    // Taken but not forgotten yet (its object may still be there): taken again.
    assert_eq!(store.abandon_uploads(cutoff, 10).await.unwrap(), keys[..2]);
    store.forget_upload(keys[0].clone()).await.unwrap();
    store.forget_upload(key(&alice, 0x77)).await.unwrap();
    assert_eq!(store.abandon_uploads(cutoff, 10).await.unwrap(), keys[1..2]);
    // The upload younger than the cutoff was left alone and still commits.
    let (_, attachment) = commit(store, &alice, &bob, &keys[2]).await.unwrap();
    assert_eq!(attachment.storage_key, keys[2]);
}

pub async fn scan_decisions_are_stored_and_leave_the_queue<S: Backend>(store: &S) {
    let alice = user(store, "alice", Role::Student).await;
    let bob = user(store, "bob", Role::Tutor).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(send_with_file(store, &alice, &bob, n).await.id);
    }
    let queue = queued(store, Utc::now(), 2).await;
    assert_eq!(queue, ids[..2]);
    let at = Utc::now().trunc_subsecs(6);
    let mut record = audit(AuditAction::AttachmentScanned, None);
    record.object_type = "attachment";
    let infected = store
        .set_scan_status(
            ids[0],
            ScanStatus::Infected,
            at,
            Change::new(record.clone(), no_events()),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(infected.scan_status, ScanStatus::Infected);
    assert_eq!(infected.scanned_at, Some(at));
    store
        .set_scan_status(
            ids[1],
            ScanStatus::Clean,
            at,
            Change::new(record.clone(), no_events()),
        )
        .await
        .unwrap();
    let queue = queued(store, Utc::now(), 10).await;
    assert_eq!(queue, ids[2..]);
    let missing = store
        .set_scan_status(
            AttachmentId(999_999),
            ScanStatus::Clean,
            at,
            Change::new(record, no_events()),
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

async fn queued<S: Backend>(store: &S, at: DateTime<Utc>, limit: u32) -> Vec<AttachmentId> {
    store
        .unscanned(at, limit)
        .await
        .unwrap()
        .iter()
        .map(|q| q.attachment.id)
        .collect()
}

pub async fn a_deferred_scan_leaves_the_queue_to_the_others_until_it_is_due<S: Backend>(store: &S) {
    let alice = user(store, "alice", Role::Student).await;
    let bob = user(store, "bob", Role::Tutor).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(send_with_file(store, &alice, &bob, n).await.id);
    }
    let now = Utc::now().trunc_subsecs(6);
    store
        .defer_scan(ids[0], 3, now + TimeDelta::minutes(2))
        .await
        .unwrap();
    // A round of one takes the next file, not the failing one.
    assert_eq!(queued(store, now, 1).await, ids[1..2]);
    assert_eq!(queued(store, now, 10).await, ids[1..]);
    let due = store
        .unscanned(now + TimeDelta::minutes(3), 10)
        .await
        .unwrap();
    let failures: Vec<(AttachmentId, u32)> =
        due.iter().map(|q| (q.attachment.id, q.failures)).collect();
    assert_eq!(failures, vec![(ids[0], 3), (ids[1], 0), (ids[2], 0)]);
    let missing = store.defer_scan(AttachmentId(999_999), 1, now).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}
