//! Tests for marking a message read with its parties' faces, over the fake store of
//! `service::harness`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::TimeDelta;
use futures_executor::block_on;

use super::*;
use crate::service::harness::*;

#[test]
fn the_recipient_gets_the_read_message_with_both_parties_and_nobody_else_gets_anything() {
    let w = world().message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1)));
    let h = Harness::new(w.clone());
    let view = block_on(h.service.mark_read_view(&actor(TUTOR), MessageId(10))).unwrap();
    check("read_at", view.message.read_at, Some(now()));
    check(
        "parties",
        (view.sender.id, view.recipient.id),
        (STUDENT, TUTOR),
    );
    check(
        "names as the reader sees them",
        view.sender.clone(),
        w.user(STUDENT).summary().seen_by(TUTOR),
    );
    for (case, reader) in [("sender", STUDENT), ("stranger", OTHER_TUTOR)] {
        let h = Harness::new(w.clone());
        let result = block_on(h.service.mark_read_view(&actor(reader), MessageId(10)));
        check(case, outcome(&result), "NotFound".to_owned());
        h.assert_untouched(case);
    }
}
