//! Tests for sending a message with a file in one use case: the messaging side over the fake
//! store of `service::harness`, the attachment side over mocks that record every call.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_executor::block_on;

use super::*;
use crate::attachment::{FileInspector, FileKind, FileName, ScanStatus, StorageKey};
use crate::event::Recorded;
use crate::message::{ConversationId, Message, MessageId};
use crate::ports::{
    MockAttachmentRepository, MockAttachmentStorage, MockAuditLog, MockEventPublisher,
    MockVirusScanner,
};
use crate::service::attachments::AttachmentConfig;
use crate::service::harness::{Harness, STUDENT, TUTOR, actor, check, now, to, world};
use crate::text::ClientMessageId;

/// The id of the message a first request stored.
const FIRST: MessageId = MessageId(70);

type Calls = Arc<Mutex<Vec<&'static str>>>;

fn upload() -> SpooledUpload {
    let mut inspector = FileInspector::new("report.pdf");
    inspector.feed(b"%PDF-1.7 body").unwrap();
    SpooledUpload {
        file: inspector.finish().unwrap(),
        path: PathBuf::from("/tmp/spooled"),
        nonce: [0xcd; 16],
    }
}

fn command() -> SendCommand {
    SendCommand {
        client_message_id: Some(ClientMessageId::parse("retry-1").unwrap()),
        ..to(TUTOR, "see attached")
    }
}

fn stored_message() -> Message {
    Message {
        id: FIRST,
        conversation_id: ConversationId(1),
        sender_id: STUDENT,
        recipient_id: TUTOR,
        booking_id: None,
        subject: None,
        body: "see attached".into(),
        parent_id: None,
        created_at: now(),
        read_at: None,
        edited_at: None,
        deleted_by_sender: false,
        deleted_by_recipient: false,
        deleted_for_everyone_at: None,
        deleted_at: None,
    }
}

fn stored_attachment(message: MessageId) -> Attachment {
    Attachment {
        id: crate::attachment::AttachmentId(9),
        message_id: message,
        uploader_id: STUDENT,
        storage_key: StorageKey::new(STUDENT, [0xab; 16], FileKind::Pdf),
        file_name: FileName::sanitize("report.pdf", FileKind::Pdf),
        kind: FileKind::Pdf,
        size: 13,
        dimensions: None,
        scan_status: ScanStatus::NotScanned,
        created_at: now(),
        scanned_at: None,
    }
}

/// The messaging side: `found` answers each lookup by client id in turn (`None` once they run
/// out): what a retry finds already stored.
fn messaging(found: Vec<Option<Message>>) -> Harness {
    Harness::with_repository(
        world(),
        move |repo: &mut crate::service::harness::MockStore| {
            let turn = AtomicUsize::new(0);
            repo.expect_message_by_client_id()
                .returning(move |sender, client_id| {
                    assert_eq!((sender, client_id.as_str()), (STUDENT, "retry-1"));
                    let at = turn.fetch_add(1, Ordering::SeqCst);
                    Ok(found.get(at).cloned().flatten())
                });
        },
    )
}

/// The attachment side: a commit that succeeds, or fails as a duplicate of a copy that committed
/// first (`duplicate`); the files stored with `FIRST` are `first_files`.
fn attachments(
    calls: &Calls,
    duplicate: bool,
    first_files: Vec<Attachment>,
) -> AttachmentService<
    MockAttachmentRepository,
    MockAttachmentStorage,
    MockVirusScanner,
    MockEventPublisher,
    MockAuditLog,
    crate::ports::MockClock,
> {
    let mut repo = MockAttachmentRepository::new();
    let log = Arc::clone(calls);
    repo.expect_begin_upload().returning(move |_| {
        log.lock().unwrap().push("begin_upload");
        Ok(())
    });
    let log = Arc::clone(calls);
    repo.expect_insert_message_with_attachment().returning(
        move |new, attachment, _change, _attachment_audit| {
            log.lock().unwrap().push("commit");
            if duplicate {
                return Err(StoreError::Duplicate(crate::error::Unique::ClientMessageId));
            }
            let message = Message {
                id: MessageId(71),
                ..stored_message()
            };
            assert_eq!(new.body, message.body);
            let mut stored = stored_attachment(message.id);
            stored.storage_key = attachment.storage_key;
            Ok(Recorded {
                value: (message, stored),
                events: Vec::new(),
            })
        },
    );
    let log = Arc::clone(calls);
    repo.expect_forget_upload().returning(move |_| {
        log.lock().unwrap().push("forget_upload");
        Ok(())
    });
    let log = Arc::clone(calls);
    repo.expect_attachments_of().returning(move |ids| {
        log.lock().unwrap().push("attachments_of");
        assert_eq!(ids, vec![FIRST]);
        Ok(first_files.clone())
    });
    let mut storage = MockAttachmentStorage::new();
    let log = Arc::clone(calls);
    storage.expect_put_file().returning(move |_, _, _, _| {
        log.lock().unwrap().push("put");
        Ok(())
    });
    let log = Arc::clone(calls);
    storage.expect_delete().returning(move |_| {
        log.lock().unwrap().push("delete");
        Ok(())
    });
    let mut events = MockEventPublisher::new();
    events.expect_publish().return_const(());
    let mut clock = crate::ports::MockClock::new();
    clock.expect_now().returning(now);
    AttachmentService::new(
        repo,
        Arc::new(storage),
        None,
        events,
        MockAuditLog::new(),
        clock,
        AttachmentConfig::default(),
    )
}

fn outcome(result: &Result<SentWithFile, SendError>) -> String {
    match result {
        Ok(sent) => format!(
            "message {} with file of message {}, stored now: {}",
            sent.view.message.id.0, sent.attachment.message_id.0, sent.stored_now
        ),
        Err(err) => format!("{err:?}"),
    }
}

#[test]
fn a_new_message_is_checked_then_stored_with_its_file() {
    let calls = Calls::default();
    let h = messaging(vec![None]);
    let result = block_on(
        attachments(&calls, false, Vec::new()).send_message_with_file(
            &h.service,
            &actor(STUDENT),
            command(),
            upload(),
        ),
    );
    check(
        "answer",
        outcome(&result),
        "message 71 with file of message 71, stored now: true".to_owned(),
    );
    check(
        "calls",
        calls.lock().unwrap().clone(),
        vec!["begin_upload", "put", "commit"],
    );
}

#[test]
fn a_retry_gets_what_the_first_request_stored_and_stores_nothing() {
    let calls = Calls::default();
    let h = messaging(vec![Some(stored_message())]);
    let result = block_on(
        attachments(&calls, false, vec![stored_attachment(FIRST)]).send_message_with_file(
            &h.service,
            &actor(STUDENT),
            command(),
            upload(),
        ),
    );
    check(
        "answer",
        outcome(&result),
        "message 70 with file of message 70, stored now: false".to_owned(),
    );
    check(
        "calls",
        calls.lock().unwrap().clone(),
        vec!["attachments_of"],
    );
}

#[test]
fn a_client_id_that_names_a_message_without_a_file_is_refused() {
    let calls = Calls::default();
    let h = messaging(vec![Some(stored_message())]);
    let result = block_on(
        attachments(&calls, false, Vec::new()).send_message_with_file(
            &h.service,
            &actor(STUDENT),
            command(),
            upload(),
        ),
    );
    check("answer", outcome(&result), "ClientIdReused".to_owned());
    check(
        "calls",
        calls.lock().unwrap().clone(),
        vec!["attachments_of"],
    );
}

#[test]
fn a_copy_that_lost_the_race_takes_its_file_down_and_answers_with_the_winners() {
    let calls = Calls::default();
    // Not stored when this copy was checked; stored by the other copy when it came to commit.
    let h = messaging(vec![None, Some(stored_message())]);
    let result = block_on(
        attachments(&calls, true, vec![stored_attachment(FIRST)]).send_message_with_file(
            &h.service,
            &actor(STUDENT),
            command(),
            upload(),
        ),
    );
    check(
        "answer",
        outcome(&result),
        "message 70 with file of message 70, stored now: false".to_owned(),
    );
    check(
        "calls",
        calls.lock().unwrap().clone(),
        vec![
            "begin_upload",
            "put",
            "commit",
            "delete",
            "forget_upload",
            "attachments_of",
        ],
    );
}

#[test]
fn a_duplicate_whose_message_cannot_be_found_is_reported_as_a_duplicate() {
    let calls = Calls::default();
    let h = messaging(vec![None, None]);
    let result = block_on(
        attachments(&calls, true, Vec::new()).send_message_with_file(
            &h.service,
            &actor(STUDENT),
            command(),
            upload(),
        ),
    );
    check(
        "answer",
        outcome(&result),
        "Store(Duplicate(ClientMessageId))".to_owned(),
    );
}
