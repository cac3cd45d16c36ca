//! What only this store shows of attachments: the audit log's entry for an upload, and no
//! message row at all when an upload was abandoned.

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use messaging_domain::Change;
use messaging_domain::StoreError;
use messaging_domain::attachment::{
    Attachment, FileInspector, FileKind, NewAttachment, PendingUpload, ScanStatus, StorageKey,
};
use messaging_domain::audit::AuditAction;
use messaging_domain::message::{Message, NewMessage};
use messaging_domain::ports::AttachmentRepository;
use messaging_domain::user::{Role, User, UserId};
use messaging_store::Store;

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

async fn begin(store: &Store, key: &StorageKey, uploader: &User, started_at: DateTime<Utc>) {
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
async fn commit(
    store: &Store,
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

fn a_long_time_from_now() -> DateTime<Utc> {
    Utc::now() + TimeDelta::days(1)
}

pub async fn a_message_with_a_file_records_the_upload_in_the_audit_log(store: &Store) {
    let alice = user(store, "alice", Role::Student).await;
    let bob = user(store, "bob", Role::Tutor).await;
    let key = key(&alice, 0x5a);
    begin(store, &key, &alice, Utc::now()).await;
    let (message, attachment) = commit(store, &alice, &bob, &key).await.unwrap();
    let actions: Vec<(String, Option<UserId>)> = store
        .audit_entries(Default::default(), page(1, 100))
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.actor_id))
        .collect();
    assert!(
        actions.contains(&("attachment.uploaded".to_owned(), Some(alice.id))),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("message.sent".to_owned(), Some(alice.id))),
        "{actions:?}"
    );
    assert_eq!(
        store.attachments_of(vec![message.id]).await.unwrap(),
        vec![attachment]
    );
}

pub async fn an_abandoned_upload_leaves_no_message_row(store: &Store) {
    let alice = user(store, "alice", Role::Student).await;
    let bob = user(store, "bob", Role::Tutor).await;
    let before = store.message_count().await.unwrap();
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
    assert_eq!(store.message_count().await.unwrap(), before);
}
