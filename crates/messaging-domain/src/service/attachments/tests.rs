//! Tests for [`AttachmentService`] over mockall mocks of its ports.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures_executor::block_on;

use super::*;
use crate::attachment::{FileInspector, QueuedScan, ScanVerdict};
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
        storage_key: StorageKey::new(SENDER, [0xcd; 16], FileKind::Pdf),
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

/// The key `upload()` is stored under.
const KEY: &str = "messages/1/cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd.pdf";

/// Every call to the repository and the storage, in order, as `"what key"`.
type Calls = Arc<Mutex<Vec<String>>>;

fn note(calls: &Calls, call: &str, key: &StorageKey) {
    calls
        .lock()
        .unwrap()
        .push(format!("{call} {}", key.as_str()));
}

/// A repository that records pending uploads and either commits the message with its
/// attachment or fails the commit with `commit_fails`.
fn repo_recording(calls: &Calls, commit_fails: bool) -> MockAttachmentRepository {
    let mut repo = MockAttachmentRepository::new();
    let log = Arc::clone(calls);
    repo.expect_begin_upload().returning(move |upload| {
        assert_eq!((upload.uploader, upload.started_at), (SENDER, now()));
        note(&log, "begin_upload", &upload.key);
        Ok(())
    });
    let log = Arc::clone(calls);
    repo.expect_insert_message_with_attachment().returning(
        move |_message,
              attachment,
              Change {
                  audit: message_audit,
                  plan,
              },
              attachment_audit| {
            assert_eq!(message_audit.action, AuditAction::MessageSent);
            assert_eq!(attachment_audit.action, AuditAction::AttachmentUploaded);
            note(&log, "commit", &attachment.storage_key);
            if commit_fails {
                return Err(StoreError::Backend("disk full".into()));
            }
            let mut stored = stored_attachment(attachment.scan_status);
            stored.storage_key = attachment.storage_key;
            let message = stored_message(false);
            let events = stream(plan(&message));
            Ok(Recorded {
                value: (message, stored),
                events,
            })
        },
    );
    let log = Arc::clone(calls);
    repo.expect_forget_upload().returning(move |key| {
        note(&log, "forget_upload", &key);
        Ok(())
    });
    repo
}

/// A storage that records puts and deletes; `put_fails` and `delete_fails` make them fail.
fn storage_recording(calls: &Calls, put_fails: bool, delete_fails: bool) -> MockAttachmentStorage {
    let mut storage = MockAttachmentStorage::new();
    let log = Arc::clone(calls);
    storage
        .expect_put_file()
        .returning(move |key, mime, _path, size| {
            assert_eq!((mime, size), ("application/pdf", 13));
            note(&log, "put", &key);
            if put_fails {
                return Err(StoreError::Backend("unreachable".into()));
            }
            Ok(())
        });
    let log = Arc::clone(calls);
    storage.expect_delete().returning(move |key| {
        note(&log, "delete", &key);
        if delete_fails {
            return Err(StoreError::Backend("unreachable".into()));
        }
        Ok(())
    });
    storage
}

fn calls(list: &[&str]) -> Vec<String> {
    list.iter().map(|c| format!("{c} {KEY}")).collect()
}

#[test]
fn the_file_is_stored_before_its_message_is_committed_under_a_recorded_random_key() {
    for (case, scanner, expected_status) in [
        ("without scanner", None, ScanStatus::NotScanned),
        (
            "with scanner",
            Some(MockVirusScanner::new()),
            ScanStatus::Pending,
        ),
    ] {
        let log = Calls::default();
        let (events, seen) = events();
        let svc = service(
            repo_recording(&log, false),
            storage_recording(&log, false, false),
            scanner,
            events,
            MockAuditLog::new(),
        );
        let (view, attachment) =
            block_on(svc.send_with_attachment(&actor(SENDER), prepared(), upload())).unwrap();
        check(case, view.message.id, MESSAGE);
        check(
            case,
            log.lock().unwrap().clone(),
            calls(&["begin_upload", "put", "commit"]),
        );
        check(case, attachment.storage_key.as_str(), KEY);
        check(case, attachment.scan_status, expected_status);
        check(case, seen.lock().unwrap().len(), 1);
    }
}

#[test]
fn a_failed_upload_commits_nothing_announces_nothing_and_forgets_the_upload() {
    let log = Calls::default();
    let mut events = MockEventPublisher::new();
    events.expect_publish().never();
    let svc = service(
        repo_recording(&log, false),
        storage_recording(&log, true, false),
        None,
        events,
        MockAuditLog::new(),
    );
    let result = block_on(svc.send_with_attachment(&actor(SENDER), prepared(), upload()));
    check("error", matches!(result, Err(StoreError::Backend(_))), true);
    check(
        "calls",
        log.lock().unwrap().clone(),
        calls(&["begin_upload", "put", "delete", "forget_upload"]),
    );
}

#[test]
fn an_object_whose_message_failed_to_commit_is_removed_and_its_upload_forgotten() {
    let log = Calls::default();
    let mut events = MockEventPublisher::new();
    events.expect_publish().never();
    let svc = service(
        repo_recording(&log, true),
        storage_recording(&log, false, false),
        None,
        events,
        MockAuditLog::new(),
    );
    let result = block_on(svc.send_with_attachment(&actor(SENDER), prepared(), upload()));
    check("error", result.is_err(), true);
    check(
        "calls",
        log.lock().unwrap().clone(),
        calls(&["begin_upload", "put", "commit", "delete", "forget_upload"]),
    );
}

#[test]
fn an_object_the_storage_fails_to_remove_stays_recorded_for_the_sweep() {
    let log = Calls::default();
    let svc = service(
        repo_recording(&log, true),
        storage_recording(&log, false, true),
        None,
        MockEventPublisher::new(),
        MockAuditLog::new(),
    );
    let result = block_on(svc.send_with_attachment(&actor(SENDER), prepared(), upload()));
    check("error", result.is_err(), true);
    check(
        "calls",
        log.lock().unwrap().clone(),
        calls(&["begin_upload", "put", "commit", "delete"]),
    );
}

#[test]
fn if_recording_the_upload_fails_nothing_is_stored() {
    let mut repo = MockAttachmentRepository::new();
    repo.expect_begin_upload()
        .returning(|_| Err(StoreError::Backend("down".into())));
    repo.expect_insert_message_with_attachment().never();
    let mut storage = MockAttachmentStorage::new();
    storage.expect_put_file().never();
    let svc = service(
        repo,
        storage,
        None,
        MockEventPublisher::new(),
        MockAuditLog::new(),
    );
    let result = block_on(svc.send_with_attachment(&actor(SENDER), prepared(), upload()));
    check("error", matches!(result, Err(StoreError::Backend(_))), true);
}

#[test]
fn abandoned_uploads_lose_their_objects_and_records_unless_the_storage_fails() {
    let log = Calls::default();
    let mut repo = MockAttachmentRepository::new();
    repo.expect_abandon_uploads()
        .returning(|started_before, limit| {
            // Uploads older than the configured 15 minutes, at most a batch of them.
            assert_eq!(started_before, now() - chrono::TimeDelta::minutes(15));
            assert_eq!(limit, 8);
            Ok(vec![
                StorageKey::new(SENDER, [0xaa; 16], FileKind::Pdf),
                StorageKey::new(SENDER, [0xbb; 16], FileKind::Pdf),
            ])
        });
    let sink = Arc::clone(&log);
    repo.expect_forget_upload().returning(move |key| {
        note(&sink, "forget_upload", &key);
        Ok(())
    });
    let mut storage = MockAttachmentStorage::new();
    let sink = Arc::clone(&log);
    storage.expect_delete().returning(move |key| {
        note(&sink, "delete", &key);
        if key.as_str().contains("bbbb") {
            Err(StoreError::Backend("unreachable".into()))
        } else {
            Ok(())
        }
    });
    let svc = service(
        repo,
        storage,
        None,
        MockEventPublisher::new(),
        MockAuditLog::new(),
    );
    let round = block_on(svc.sweep_abandoned_uploads(8)).unwrap();
    check("removed", round.removed, 1);
    check(
        "failed",
        round
            .failures
            .iter()
            .map(|(k, _)| k.as_str().to_owned())
            .collect::<Vec<_>>(),
        vec!["messages/1/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.pdf".to_owned()],
    );
    check(
        "calls",
        log.lock().unwrap().clone(),
        vec![
            "delete messages/1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.pdf".to_owned(),
            "forget_upload messages/1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.pdf".to_owned(),
            "delete messages/1/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.pdf".to_owned(),
        ],
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
                assert_eq!(key.as_str(), KEY);
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
    repo.expect_unscanned().returning(|at, limit| {
        assert_eq!((at, limit), (now(), 10));
        let mut second = stored_attachment(ScanStatus::Pending);
        second.id = AttachmentId(10);
        second.storage_key = StorageKey::new(SENDER, [0xee; 16], FileKind::Pdf);
        let mut third = stored_attachment(ScanStatus::Pending);
        third.id = AttachmentId(11);
        third.storage_key = StorageKey::new(SENDER, [0xff; 16], FileKind::Pdf);
        Ok([
            (stored_attachment(ScanStatus::Pending), 0),
            (second, 0),
            (third, 2),
        ]
        .into_iter()
        .map(|(attachment, failures)| QueuedScan {
            attachment,
            failures,
        })
        .collect())
    });
    // The unreadable file failed twice before: this third failure keeps it out for a minute.
    let deferred = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&deferred);
    repo.expect_defer_scan()
        .returning(move |id, failures, retry_at| {
            sink.lock().unwrap().push((id, failures, retry_at));
            Ok(())
        });
    let sink = Arc::clone(&decided);
    repo.expect_set_scan_status()
        .returning(move |id, status, _at, Change { audit, plan }| {
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
        "deferred",
        deferred.lock().unwrap().clone(),
        vec![(AttachmentId(11), 3, now() + chrono::TimeDelta::seconds(60))],
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
