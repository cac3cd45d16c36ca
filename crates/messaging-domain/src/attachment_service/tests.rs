//! Tests for [`AttachmentService`] over mockall mocks of its ports.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures_executor::block_on;

use super::*;
use crate::attachment::{FileInspector, ScanVerdict};
use crate::event::Recorded;
use crate::message::{ConversationId, Message, NewMessage};
use crate::ports::{
    MockAttachmentRepository, MockAttachmentStorage, MockAuditLog, MockClock, MockEventPublisher,
    MockVirusScanner,
};
use crate::user::{UserId, UserSummary};

type Service = AttachmentService<
    MockAttachmentRepository,
    MockAttachmentStorage,
    MockVirusScanner,
    MockEventPublisher,
    MockAuditLog,
    MockClock,
>;

const SENDER: UserId = UserId(1);
const RECIPIENT: UserId = UserId(2);
const STRANGER: UserId = UserId(3);
const MESSAGE: MessageId = MessageId(70);
const ATTACHMENT: AttachmentId = AttachmentId(9);

/// Runs a future the mocks make ready at once (the repository mock runs inside `block_on`
/// already, so it cannot start another executor).
fn ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => panic!("the mocks' futures are always ready"),
    }
}

#[track_caller]
fn check<T: PartialEq + Debug>(case: impl Debug, actual: T, expected: T) {
    assert_eq!(actual, expected, "case {case:?}");
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_741_946_400, 0).unwrap()
}

fn actor(user: UserId) -> Actor {
    Actor {
        user_id: user,
        client_addr: None,
    }
}

fn summary(id: UserId) -> UserSummary {
    UserSummary {
        id,
        username: format!("user{}", id.0),
        first_name: "F".into(),
        last_name: "L".into(),
        role: crate::user::Role::Student,
    }
}

fn prepared() -> PreparedMessage {
    PreparedMessage {
        message: NewMessage {
            sender_id: SENDER,
            recipient_id: RECIPIENT,
            booking_id: None,
            subject: None,
            body: "see attached".into(),
            parent_id: None,
            client_message_id: None,
            created_at: now(),
        },
        file_name: FileName::sanitize("report.pdf", FileKind::Pdf),
        sender: summary(SENDER),
        recipient: summary(RECIPIENT),
    }
}

fn upload() -> SpooledUpload {
    let mut inspector = FileInspector::new("report.pdf");
    inspector.feed(b"%PDF-1.7 body").unwrap();
    SpooledUpload {
        file: inspector.finish().unwrap(),
        path: PathBuf::from("/tmp/spooled"),
        nonce: [0xcd; 16],
    }
}

fn stored_message(deleted_for_everyone: bool) -> Message {
    Message {
        id: MESSAGE,
        conversation_id: ConversationId(1),
        sender_id: SENDER,
        recipient_id: RECIPIENT,
        booking_id: None,
        subject: None,
        body: "see attached".into(),
        parent_id: None,
        created_at: now(),
        read_at: None,
        edited_at: None,
        deleted_by_sender: false,
        deleted_by_recipient: false,
        deleted_for_everyone_at: deleted_for_everyone.then(now),
        deleted_at: None,
    }
}

fn stored_attachment(status: ScanStatus) -> Attachment {
    Attachment {
        id: ATTACHMENT,
        message_id: MESSAGE,
        uploader_id: SENDER,
        storage_key: StorageKey::new(SENDER, MESSAGE, [0xcd; 16], FileKind::Pdf),
        file_name: FileName::sanitize("report.pdf", FileKind::Pdf),
        kind: FileKind::Pdf,
        size: 13,
        dimensions: None,
        scan_status: status,
        created_at: now(),
        scanned_at: None,
    }
}

fn clock() -> MockClock {
    let mut clock = MockClock::new();
    clock.expect_now().returning(now);
    clock
}

/// What a store does with planned events: numbers them in each audience member's stream.
fn stream(planned: Vec<crate::event::Outgoing>) -> Vec<crate::event::StreamEvent> {
    planned
        .into_iter()
        .flat_map(|outgoing| {
            let event = Arc::new(outgoing.event);
            outgoing
                .audience
                .into_iter()
                .zip(1..)
                .map(move |(user_id, seq)| crate::event::StreamEvent {
                    user_id,
                    seq,
                    at: chrono::DateTime::UNIX_EPOCH,
                    event: Arc::clone(&event),
                })
        })
        .collect()
}

/// Records every published event.
fn events() -> (MockEventPublisher, Arc<Mutex<Vec<DomainEvent>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut events = MockEventPublisher::new();
    let sink = Arc::clone(&seen);
    events.expect_publish().returning(move |entries| {
        // One event appended to several streams is one event.
        let mut last: Option<Arc<DomainEvent>> = None;
        for entry in entries {
            if !last.as_ref().is_some_and(|l| Arc::ptr_eq(l, &entry.event)) {
                sink.lock().unwrap().push((*entry.event).clone());
            }
            last = Some(entry.event);
        }
    });
    (events, seen)
}

fn service(
    repo: MockAttachmentRepository,
    storage: MockAttachmentStorage,
    scanner: Option<MockVirusScanner>,
    events: MockEventPublisher,
    audit_log: MockAuditLog,
) -> Service {
    AttachmentService::new(
        repo,
        Arc::new(storage),
        scanner,
        events,
        audit_log,
        clock(),
        AttachmentConfig::default(),
    )
}

/// A repository whose insert runs the upload step with the new message's id, then either stores
/// the rows or fails with `fail_after_upload`.
fn repo_running_upload(
    fail_after_upload: bool,
) -> (MockAttachmentRepository, Arc<Mutex<Vec<NewAttachment>>>) {
    let inserted = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&inserted);
    let mut repo = MockAttachmentRepository::new();
    repo.expect_insert_message_with_attachment().returning(
        move |_message, attachment, message_audit, attachment_audit, upload, plan| {
            assert_eq!(message_audit.action, AuditAction::MessageSent);
            assert_eq!(attachment_audit.action, AuditAction::AttachmentUploaded);
            let key = ready(upload(MESSAGE))?;
            if fail_after_upload {
                return Err(StoreError::Backend("disk full".into()));
            }
            sink.lock().unwrap().push(attachment.clone());
            let mut stored = stored_attachment(attachment.scan_status);
            stored.storage_key = key;
            let message = stored_message(false);
            let events = stream(plan(&message));
            Ok(Recorded {
                value: (message, stored),
                events,
            })
        },
    );
    (repo, inserted)
}

#[test]
fn a_message_and_its_file_are_stored_together_under_a_key_built_from_ids() {
    for (case, scanner, expected_status) in [
        ("without scanner", None, ScanStatus::NotScanned),
        (
            "with scanner",
            Some(MockVirusScanner::new()),
            ScanStatus::Pending,
        ),
    ] {
        let (repo, inserted) = repo_running_upload(false);
        let mut storage = MockAttachmentStorage::new();
        let puts = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&puts);
        storage
            .expect_put_file()
            .returning(move |key, mime, _path, size| {
                sink.lock()
                    .unwrap()
                    .push((key.as_str().to_owned(), mime, size));
                Ok(())
            });
        let (events, seen) = events();
        let svc = service(repo, storage, scanner, events, MockAuditLog::new());
        let (view, attachment) =
            block_on(svc.send_with_attachment(&actor(SENDER), prepared(), upload())).unwrap();
        check(case, view.message.id, MESSAGE);
        check(
            case,
            puts.lock().unwrap().clone(),
            vec![(
                "messages/1/70/cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd.pdf".to_owned(),
                "application/pdf",
                13,
            )],
        );
        check(
            case,
            attachment.storage_key.as_str(),
            "messages/1/70/cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd.pdf",
        );
        check(
            case,
            inserted.lock().unwrap()[0].scan_status,
            expected_status,
        );
        check(case, seen.lock().unwrap().len(), 1);
    }
}

#[test]
fn a_failed_upload_stores_nothing_and_announces_nothing() {
    let (repo, inserted) = repo_running_upload(false);
    let mut storage = MockAttachmentStorage::new();
    storage
        .expect_put_file()
        .returning(|_, _, _, _| Err(StoreError::Backend("unreachable".into())));
    storage.expect_delete().never();
    let mut events = MockEventPublisher::new();
    events.expect_publish().never();
    let svc = service(repo, storage, None, events, MockAuditLog::new());
    let result = block_on(svc.send_with_attachment(&actor(SENDER), prepared(), upload()));
    check("error", matches!(result, Err(StoreError::Backend(_))), true);
    check("no rows", inserted.lock().unwrap().len(), 0);
}

#[test]
fn an_object_stored_before_the_transaction_failed_is_removed_again() {
    let (repo, _) = repo_running_upload(true);
    let mut storage = MockAttachmentStorage::new();
    storage.expect_put_file().returning(|_, _, _, _| Ok(()));
    let deleted = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&deleted);
    storage.expect_delete().returning(move |key| {
        sink.lock().unwrap().push(key.as_str().to_owned());
        Ok(())
    });
    let mut events = MockEventPublisher::new();
    events.expect_publish().never();
    let svc = service(repo, storage, None, events, MockAuditLog::new());
    let result = block_on(svc.send_with_attachment(&actor(SENDER), prepared(), upload()));
    check("error", result.is_err(), true);
    check(
        "deleted",
        deleted.lock().unwrap().clone(),
        vec!["messages/1/70/cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd.pdf".to_owned()],
    );
}

fn repo_with(status: ScanStatus, deleted_for_everyone: bool) -> MockAttachmentRepository {
    let mut repo = MockAttachmentRepository::new();
    repo.expect_attachment().returning(move |id| {
        Ok((id == ATTACHMENT).then(|| {
            (
                stored_attachment(status),
                stored_message(deleted_for_everyone),
            )
        }))
    });
    repo
}

#[test]
fn download_links_go_only_to_participants_of_safe_files_and_are_audited() {
    type Expected = Result<&'static str, Option<DownloadRefusal>>;
    let cases: [(&str, UserId, AttachmentId, ScanStatus, bool, bool, Expected); 7] = [
        (
            "recipient, clean",
            RECIPIENT,
            ATTACHMENT,
            ScanStatus::Clean,
            false,
            true,
            Ok("https://signed"),
        ),
        (
            "sender, not scanned, no scanner",
            SENDER,
            ATTACHMENT,
            ScanStatus::NotScanned,
            false,
            false,
            Ok("https://signed"),
        ),
        (
            "stranger",
            STRANGER,
            ATTACHMENT,
            ScanStatus::Clean,
            false,
            true,
            Err(Some(DownloadRefusal::NotFound)),
        ),
        (
            "unknown id",
            RECIPIENT,
            AttachmentId(404),
            ScanStatus::Clean,
            false,
            true,
            Err(Some(DownloadRefusal::NotFound)),
        ),
        (
            "infected",
            RECIPIENT,
            ATTACHMENT,
            ScanStatus::Infected,
            false,
            true,
            Err(Some(DownloadRefusal::Infected)),
        ),
        (
            "pending",
            RECIPIENT,
            ATTACHMENT,
            ScanStatus::Pending,
            false,
            true,
            Err(Some(DownloadRefusal::ScanPending)),
        ),
        (
            "deleted for everyone",
            SENDER,
            ATTACHMENT,
            ScanStatus::Clean,
            true,
            true,
            Err(Some(DownloadRefusal::NotFound)),
        ),
    ];
    for (case, user, id, status, deleted, with_scanner, expected) in cases {
        let allowed = expected.is_ok();
        let mut storage = MockAttachmentStorage::new();
        storage
            .expect_download_url()
            .times(usize::from(allowed))
            .returning(|key, name, mime, ttl| {
                assert_eq!(
                    key.as_str(),
                    "messages/1/70/cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd.pdf"
                );
                assert_eq!(
                    (name.as_str(), mime, ttl),
                    ("report.pdf", "application/pdf", 3_600)
                );
                Ok("https://signed".to_owned())
            });
        let mut audit_log = MockAuditLog::new();
        audit_log
            .expect_record()
            .times(usize::from(allowed))
            .returning(move |record| {
                assert_eq!(record.action, AuditAction::AttachmentDownloaded);
                assert_eq!(record.object_id, Some(ATTACHMENT.0));
                Ok(())
            });
        let scanner = with_scanner.then(MockVirusScanner::new);
        let svc = service(
            repo_with(status, deleted),
            storage,
            scanner,
            MockEventPublisher::new(),
            audit_log,
        );
        let result = block_on(svc.download(&actor(user), id));
        let got: Result<String, Option<DownloadRefusal>> = match result {
            Ok(link) => {
                check(case, (link.size, link.expires_in_seconds), (13, 3_600));
                Ok(link.url)
            }
            Err(DownloadError::Refused(r)) => Err(Some(r)),
            Err(DownloadError::Store(_)) => Err(None),
        };
        check(case, got, expected.map(str::to_owned));
    }
}

#[test]
fn the_scanner_decides_pending_files_and_the_uploader_is_told() {
    let decided = Arc::new(Mutex::new(Vec::new()));
    let mut repo = MockAttachmentRepository::new();
    repo.expect_unscanned().returning(|_| {
        let mut second = stored_attachment(ScanStatus::Pending);
        second.id = AttachmentId(10);
        second.storage_key = StorageKey::new(SENDER, MESSAGE, [0xee; 16], FileKind::Pdf);
        let mut third = stored_attachment(ScanStatus::Pending);
        third.id = AttachmentId(11);
        third.storage_key = StorageKey::new(SENDER, MESSAGE, [0xff; 16], FileKind::Pdf);
        Ok(vec![stored_attachment(ScanStatus::Pending), second, third])
    });
    let sink = Arc::clone(&decided);
    repo.expect_set_scan_status()
        .returning(move |id, status, _at, audit, plan| {
            assert_eq!(audit.action, AuditAction::AttachmentScanned);
            sink.lock().unwrap().push((id, status));
            let mut a = stored_attachment(status);
            a.id = id;
            let events = stream(plan(&a));
            Ok(Recorded { value: a, events })
        });
    let mut storage = MockAttachmentStorage::new();
    storage.expect_get().returning(|key| {
        if key.as_str().contains("eeee") {
            Ok(b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR".to_vec())
        } else if key.as_str().contains("ffff") {
            Err(StoreError::NotFound)
        } else {
            Ok(b"%PDF-1.7".to_vec())
        }
    });
    let mut scanner = MockVirusScanner::new();
    scanner.expect_scan().returning(|bytes| {
        Ok(if bytes.starts_with(b"X5O") {
            ScanVerdict::Infected("Eicar-Test-Signature".into())
        } else {
            ScanVerdict::Clean
        })
    });
    let (events, seen) = events();
    let svc = service(repo, storage, Some(scanner), events, MockAuditLog::new());
    let round = block_on(svc.scan_waiting(10)).unwrap();
    check("decided", round.decided, 2);
    check(
        "failed",
        round.failures.iter().map(|f| f.0).collect::<Vec<_>>(),
        vec![AttachmentId(11)],
    );
    check(
        "statuses",
        decided.lock().unwrap().clone(),
        vec![
            (ATTACHMENT, ScanStatus::Clean),
            (AttachmentId(10), ScanStatus::Infected),
        ],
    );
    check(
        "events",
        seen.lock()
            .unwrap()
            .iter()
            .map(DomainEvent::audience)
            .collect::<Vec<_>>(),
        vec![vec![SENDER], vec![SENDER]],
    );
}

#[test]
fn without_a_scanner_nothing_is_scanned() {
    let mut repo = MockAttachmentRepository::new();
    repo.expect_unscanned().never();
    let svc = service(
        repo,
        MockAttachmentStorage::new(),
        None,
        MockEventPublisher::new(),
        MockAuditLog::new(),
    );
    check(
        "decided",
        block_on(svc.scan_waiting(10)).unwrap().decided,
        0,
    );
}
