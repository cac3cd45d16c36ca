//! Tests for who may download a file. The other attachment rules are tested beside them
//! (`inspector/tests.rs`, `file_name/tests.rs`, `storage_key/tests.rs`, `scan/tests.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;

use chrono::DateTime;

use super::*;
use crate::message::ConversationId;

#[track_caller]
fn check<T: PartialEq + Debug>(case: impl Debug, actual: T, expected: T) {
    assert_eq!(actual, expected, "case {case:?}");
}

fn message(deleted_by_recipient: bool, for_everyone: bool) -> Message {
    let at = DateTime::from_timestamp(1_741_946_400, 0).unwrap();
    Message {
        id: MessageId(7),
        conversation_id: ConversationId(1),
        sender_id: UserId(1),
        recipient_id: UserId(2),
        booking_id: None,
        subject: None,
        body: "see attached".into(),
        parent_id: None,
        created_at: at,
        read_at: None,
        edited_at: None,
        deleted_by_sender: false,
        deleted_by_recipient,
        deleted_for_everyone_at: for_everyone.then_some(at),
        deleted_at: None,
    }
}

fn attachment(status: ScanStatus) -> Attachment {
    Attachment {
        id: AttachmentId(3),
        message_id: MessageId(7),
        uploader_id: UserId(1),
        storage_key: StorageKey::new(UserId(1), [1; 16], FileKind::Pdf),
        file_name: FileName::sanitize("a.pdf", FileKind::Pdf),
        kind: FileKind::Pdf,
        size: 10,
        dimensions: None,
        scan_status: status,
        created_at: DateTime::from_timestamp(1_741_946_400, 0).unwrap(),
        scanned_at: None,
    }
}

#[test]
fn only_participants_download_files_that_are_safe_to_serve() {
    use DownloadRefusal::{Infected, NotFound, ScanPending};
    use ScanStatus::{Clean, NotScanned, Pending};
    let cases = [
        (
            "sender, clean",
            Clean,
            message(false, false),
            1,
            true,
            Ok(()),
        ),
        (
            "recipient, clean",
            Clean,
            message(false, false),
            2,
            true,
            Ok(()),
        ),
        (
            "stranger",
            Clean,
            message(false, false),
            3,
            true,
            Err(NotFound),
        ),
        (
            "infected",
            ScanStatus::Infected,
            message(false, false),
            2,
            true,
            Err(Infected),
        ),
        (
            "infected without scanner",
            ScanStatus::Infected,
            message(false, false),
            2,
            false,
            Err(Infected),
        ),
        (
            "pending with scanner",
            Pending,
            message(false, false),
            2,
            true,
            Err(ScanPending),
        ),
        (
            "not scanned with scanner",
            NotScanned,
            message(false, false),
            2,
            true,
            Err(ScanPending),
        ),
        (
            "not scanned without scanner",
            NotScanned,
            message(false, false),
            2,
            false,
            Ok(()),
        ),
        (
            "deleted by the recipient, for them",
            Clean,
            message(true, false),
            2,
            true,
            Err(NotFound),
        ),
        (
            "deleted by the recipient, for the sender",
            Clean,
            message(true, false),
            1,
            true,
            Ok(()),
        ),
        (
            "deleted for everyone",
            Clean,
            message(false, true),
            1,
            true,
            Err(NotFound),
        ),
    ];
    for (case, status, msg, user, scanner, expected) in cases {
        check(
            case,
            check_download(&attachment(status), &msg, UserId(user), scanner),
            expected,
        );
    }
    let mut other = message(false, false);
    other.id = MessageId(8);
    check(
        "wrong message",
        check_download(&attachment(Clean), &other, UserId(1), true),
        Err(NotFound),
    );
}
