//! The attachment part of the store's contract (run on both backends through `contract`).

use std::sync::{Arc, Mutex};

use chrono::{SubsecRound, Utc};
use messaging_domain::StoreError;
use messaging_domain::attachment::{FileInspector, NewAttachment, ScanStatus, StorageKey};
use messaging_domain::audit::AuditAction;
use messaging_domain::message::{MessageId, NewMessage};
use messaging_domain::ports::{AttachmentRepository, MessageRepository, UploadStep};
use messaging_domain::text::{LimitSpec, Page, PageNumber, PageSize};
use messaging_domain::user::{Role, User};
use messaging_store::Store;

use crate::support::{audit, no_events, user};

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

fn new_png() -> NewAttachment {
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    png.extend_from_slice(&640u32.to_be_bytes());
    png.extend_from_slice(&480u32.to_be_bytes());
    let mut inspector = FileInspector::new("../holiday photo.png");
    inspector.feed(&png).unwrap();
    NewAttachment {
        file: inspector.finish().unwrap(),
        scan_status: ScanStatus::Pending,
        created_at: Utc::now().trunc_subsecs(6),
    }
}

/// An upload step that records the message id it was given and succeeds or fails.
fn upload(seen: Arc<Mutex<Option<MessageId>>>, fail: bool, uploader: &User) -> UploadStep {
    let uploader = uploader.id;
    Box::new(move |message| {
        Box::pin(async move {
            *seen.lock().unwrap() = Some(message);
            if fail {
                return Err(StoreError::Backend("storage unreachable".into()));
            }
            Ok(StorageKey::new(
                uploader,
                message,
                [0x5a; 16],
                messaging_domain::attachment::FileKind::Png,
            ))
        })
    })
}

pub async fn a_message_and_its_attachment_are_stored_together_and_read_back(store: &Store) {
    let alice = user(store, "alice", Role::Student).await;
    let bob = user(store, "bob", Role::Tutor).await;
    let seen = Arc::new(Mutex::new(None));
    let (message, attachment) = store
        .insert_message_with_attachment(
            new_message(&alice, &bob),
            new_png(),
            audit(AuditAction::MessageSent, Some(alice.id)),
            audit(AuditAction::AttachmentUploaded, Some(alice.id)),
            upload(Arc::clone(&seen), false, &alice),
            no_events(),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(*seen.lock().unwrap(), Some(message.id));
    assert_eq!(
        attachment.storage_key.as_str(),
        format!(
            "messages/{}/{}/{}.png",
            alice.id.0,
            message.id.0,
            "5a".repeat(16)
        )
    );
    assert_eq!(attachment.file_name.as_str(), "holiday photo.png");
    assert_eq!(attachment.dimensions, Some((640, 480)));
    assert_eq!(attachment.scan_status, ScanStatus::Pending);

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
    let actions: Vec<String> = store
        .audit_entries(
            Default::default(),
            Page {
                number: PageNumber::parse(Some(1)).unwrap(),
                size: PageSize::parse(Some(100), LimitSpec::HISTORY).unwrap(),
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"attachment.uploaded".to_owned()),
        "{actions:?}"
    );
    assert!(
        store
            .attachment(messaging_domain::attachment::AttachmentId(
                attachment.id.0 + 1000
            ))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn a_failed_upload_leaves_no_message_behind(store: &Store) {
    let alice = user(store, "alice", Role::Student).await;
    let bob = user(store, "bob", Role::Tutor).await;
    let before = store.message_count().await.unwrap();
    let seen = Arc::new(Mutex::new(None));
    let result = store
        .insert_message_with_attachment(
            new_message(&alice, &bob),
            new_png(),
            audit(AuditAction::MessageSent, Some(alice.id)),
            audit(AuditAction::AttachmentUploaded, Some(alice.id)),
            upload(Arc::clone(&seen), true, &alice),
            no_events(),
        )
        .await;
    assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
    assert!(seen.lock().unwrap().is_some(), "the upload ran");
    assert_eq!(store.message_count().await.unwrap(), before);
    assert!(
        store
            .threads(alice.id, PageSize::parse(None, LimitSpec::THREADS).unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .threads(bob.id, PageSize::parse(None, LimitSpec::THREADS).unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.unscanned(10).await.unwrap().is_empty());
    // The store still works afterwards.
    store
        .insert_message(
            new_message(&alice, &bob),
            audit(AuditAction::MessageSent, Some(alice.id)),
            no_events(),
        )
        .await
        .unwrap();
}

pub async fn scan_decisions_are_stored_and_leave_the_queue(store: &Store) {
    let alice = user(store, "alice", Role::Student).await;
    let bob = user(store, "bob", Role::Tutor).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (_, a) = store
            .insert_message_with_attachment(
                new_message(&alice, &bob),
                new_png(),
                audit(AuditAction::MessageSent, Some(alice.id)),
                audit(AuditAction::AttachmentUploaded, Some(alice.id)),
                upload(Arc::default(), false, &alice),
                no_events(),
            )
            .await
            .unwrap()
            .value;
        ids.push(a.id);
    }
    let queue: Vec<_> = store
        .unscanned(2)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(queue, ids[..2]);
    let at = Utc::now().trunc_subsecs(6);
    let mut record = audit(AuditAction::AttachmentScanned, None);
    record.object_type = "attachment";
    let infected = store
        .set_scan_status(
            ids[0],
            ScanStatus::Infected,
            at,
            record.clone(),
            no_events(),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(infected.scan_status, ScanStatus::Infected);
    assert_eq!(infected.scanned_at, Some(at));
    store
        .set_scan_status(ids[1], ScanStatus::Clean, at, record.clone(), no_events())
        .await
        .unwrap();
    let queue: Vec<_> = store
        .unscanned(10)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(queue, ids[2..]);
    let missing = store
        .set_scan_status(
            messaging_domain::attachment::AttachmentId(999_999),
            ScanStatus::Clean,
            at,
            record,
            no_events(),
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}
