//! Tests for a conversation's history with its files: the messaging side over the fake store of
//! `service::harness`, the attachment side over a mock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::TimeDelta;
use futures_executor::block_on;

use super::*;
use crate::attachment::{AttachmentId, FileKind, FileName, ScanStatus, StorageKey};
use crate::message::MessageId;
use crate::ports::{
    MockAttachmentRepository, MockAttachmentStorage, MockAuditLog, MockClock, MockEventPublisher,
    MockVirusScanner,
};
use crate::service::attachments::AttachmentConfig;
use crate::service::harness::{
    Harness, OTHER_TUTOR, STUDENT, TUTOR, actor, check, message, message_with, now, world,
};
use crate::text::{Page, PageNumber, PageSize};

fn file(id: i64, message: i64) -> Attachment {
    Attachment {
        id: AttachmentId(id),
        message_id: MessageId(message),
        uploader_id: STUDENT,
        storage_key: StorageKey::new(STUDENT, [0xab; 16], FileKind::Pdf),
        file_name: FileName::sanitize("report.pdf", FileKind::Pdf),
        kind: FileKind::Pdf,
        size: 13,
        dimensions: None,
        scan_status: ScanStatus::Clean,
        created_at: now(),
        scanned_at: None,
    }
}

/// Files of messages 10, 12 (which the student deleted) and 20 (another conversation); the
/// repository answers for the ids it is asked about only, and they must be the page's.
fn attachments(
    expected_ids: Vec<MessageId>,
) -> AttachmentService<
    MockAttachmentRepository,
    MockAttachmentStorage,
    MockVirusScanner,
    MockEventPublisher,
    MockAuditLog,
    MockClock,
> {
    let mut repo = MockAttachmentRepository::new();
    repo.expect_attachments_of().times(1).returning(move |ids| {
        assert_eq!(
            ids, expected_ids,
            "only the page's messages are asked about"
        );
        Ok([file(1, 10), file(2, 12), file(3, 20)]
            .into_iter()
            .filter(|f| ids.contains(&f.message_id))
            .collect())
    });
    AttachmentService::new(
        repo,
        Arc::new(MockAttachmentStorage::new()),
        None,
        MockEventPublisher::new(),
        MockAuditLog::new(),
        MockClock::new(),
        AttachmentConfig::default(),
    )
}

fn request() -> HistoryRequest {
    HistoryRequest {
        before: None,
        page: Page {
            number: PageNumber::parse(None).unwrap(),
            size: PageSize::parse(None, crate::text::LimitSpec::HISTORY).unwrap(),
        },
    }
}

#[test]
fn each_message_comes_with_its_own_files_and_no_file_of_a_message_the_reader_cannot_see() {
    let w = world()
        .message(message(10, STUDENT, TUTOR, TimeDelta::minutes(3)))
        .message(message(11, TUTOR, STUDENT, TimeDelta::minutes(2)))
        .message(message_with(12, STUDENT, TUTOR, |m| {
            m.deleted_by_sender = true;
        }))
        .message(message(20, STUDENT, OTHER_TUTOR, TimeDelta::minutes(1)));
    let h = Harness::new(w);
    let page = block_on(
        attachments(vec![MessageId(10), MessageId(11)]).history_with_files(
            &h.service,
            &actor(STUDENT),
            TUTOR,
            None,
            request(),
        ),
    )
    .unwrap();
    let listed: Vec<(i64, Vec<i64>)> = page
        .messages
        .iter()
        .map(|m| {
            (
                m.view.message.id.0,
                m.files.iter().map(|f| f.id.0).collect(),
            )
        })
        .collect();
    check(
        "files per message",
        listed,
        vec![(10, vec![1]), (11, vec![])],
    );
}

#[test]
fn an_empty_page_asks_for_no_files() {
    let h = Harness::new(world());
    // No expectation on the repository: a query for no messages would panic.
    let service = AttachmentService::new(
        MockAttachmentRepository::new(),
        Arc::new(MockAttachmentStorage::new()),
        None::<MockVirusScanner>,
        MockEventPublisher::new(),
        MockAuditLog::new(),
        MockClock::new(),
        AttachmentConfig::default(),
    );
    let page =
        block_on(service.history_with_files(&h.service, &actor(STUDENT), TUTOR, None, request()))
            .unwrap();
    check("messages", page.messages.len(), 0);
}
