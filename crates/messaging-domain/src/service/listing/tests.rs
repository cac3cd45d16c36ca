//! Tests for what a user reads, over the fake store of `service::harness`: another user's face is
//! masked wherever it is shown, and an unknown user looks like nobody.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::TimeDelta;
use futures_executor::block_on;

use super::*;
use crate::service::harness::*;

/// A tutor whose display name carries contact details.
fn world_with_a_chatty_tutor_name() -> World {
    let mut w = world();
    for u in &mut w.users {
        if u.id == TUTOR {
            u.first_name = "Reach me on whatsapp at johnny99".to_owned();
            u.last_name = "call 555-1234".to_owned();
        }
    }
    w
}

#[track_caller]
fn check_names(case: &str, face: &UserSummary, first: &str, last: &str) {
    check(
        case,
        (face.first_name.as_str(), face.last_name.as_str()),
        (first, last),
    );
}

#[test]
fn another_users_display_name_is_masked_wherever_it_is_shown_and_ones_own_is_not() {
    const MASKED: (&str, &str) = ("Reach me on whatsapp at ***", "call ***-****");
    const TYPED: (&str, &str) = ("Reach me on whatsapp at johnny99", "call 555-1234");
    let stored = message(10, TUTOR, STUDENT, TimeDelta::minutes(1));
    let h = Harness::new(world_with_a_chatty_tutor_name().message(stored));
    let student = actor(STUDENT);
    let tutor = actor(TUTOR);
    let page = Page {
        number: crate::text::PageNumber::first(),
        size: PageSize::parse(None, crate::text::LimitSpec::HISTORY).unwrap(),
    };
    let history = HistoryRequest { before: None, page };

    // Seen by the student, the tutor's name is masked everywhere.
    let sent = h.send(STUDENT, to(TUTOR, "hello")).unwrap();
    check_names("send: recipient", &sent.recipient, MASKED.0, MASKED.1);
    let threads = block_on(h.service.threads(&student, page.size)).unwrap();
    check_names("threads", &threads[0].other_user, MASKED.0, MASKED.1);
    let inbox = block_on(h.service.inbox(&student, page, false)).unwrap();
    check_names("inbox", &inbox[0].other_user, MASKED.0, MASKED.1);
    let slice = block_on(h.service.history(&student, TUTOR, None, history)).unwrap();
    check_names("history", &slice.messages[0].sender, MASKED.0, MASKED.1);
    let query = SearchQuery::parse("original").unwrap();
    let found = block_on(h.service.search(&student, &query, page)).unwrap();
    check_names("search", &found.messages[0].sender, MASKED.0, MASKED.1);
    let (other, _) = block_on(h.service.open_conversation(&student, "tutor2", page.size)).unwrap();
    check_names("conversation", &other.unwrap(), MASKED.0, MASKED.1);
    // The student's own name is shown as typed.
    check_names("send: sender", &sent.sender, "First1", "Last1");

    // Seen by the tutor, their own name is as typed.
    let sent = block_on(h.service.sent(&tutor, page)).unwrap();
    check_names("sent: own name", &sent[0].sender, TYPED.0, TYPED.1);
    let slice = block_on(h.service.history(&tutor, STUDENT, None, history)).unwrap();
    check_names(
        "history: own name",
        &slice.messages[0].sender,
        TYPED.0,
        TYPED.1,
    );
}

#[test]
fn opening_a_conversation_with_a_stranger_looks_like_opening_one_with_nobody() {
    let h = Harness::new(world().message(message(10, TUTOR, STUDENT, TimeDelta::minutes(1))));
    let size = PageSize::parse(None, crate::text::LimitSpec::CONVERSATION).unwrap();
    let open = |name: &str| {
        let (face, slice) =
            block_on(h.service.open_conversation(&actor(STUDENT), name, size)).unwrap();
        (face.map(|f| f.username), slice.messages.len())
    };
    check("unknown", open("nobody"), (None, 0));
    check("existing stranger", open("patient3"), (None, 0));
    check("oneself", open("student1"), (None, 0));
    check("partner", open("tutor2"), (Some("tutor2".to_owned()), 1));
}
