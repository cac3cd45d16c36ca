//! Tests for typing and presence, over the fake store of `service::harness`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_executor::block_on;

use super::*;
use crate::service::harness::*;

#[test]
fn typing_reaches_only_a_conversation_partner_without_a_block() {
    let w = world()
        .conversation(STUDENT, TUTOR, STUDENT)
        .conversation(STUDENT, OTHER_TUTOR, STUDENT)
        .block(OTHER_TUTOR, STUDENT);
    let h = Harness::new(w.clone());
    block_on(h.service.typing(&actor(STUDENT), TUTOR, true)).unwrap();
    check(
        "partner",
        h.live(),
        vec![LiveEvent::Typing {
            from: STUDENT,
            to: TUTOR,
            is_typing: true,
            expires_in_seconds: 5,
        }],
    );
    for (case, from, to) in [
        ("no conversation", STUDENT, PATIENT),
        ("unknown user", STUDENT, UNKNOWN),
        ("blocked partner", STUDENT, OTHER_TUTOR),
        ("partner who blocked", OTHER_TUTOR, STUDENT),
        ("oneself", STUDENT, STUDENT),
    ] {
        let h = Harness::new(w.clone());
        let result = block_on(h.service.typing(&actor(from), to, true));
        check(case, outcome(&result), "NotFound".to_owned());
        check(case, h.live(), Vec::new());
    }
}

#[test]
fn presence_is_for_conversation_partners_and_can_be_hidden() {
    let mut w = world()
        .conversation(STUDENT, TUTOR, STUDENT)
        .conversation(STUDENT, OTHER_TUTOR, STUDENT)
        .conversation(STUDENT, PATIENT, STUDENT)
        .block(OTHER_TUTOR, STUDENT);
    let h = Harness::new(w.clone());
    check(
        "audience",
        block_on(h.service.presence_audience(STUDENT)).unwrap(),
        vec![TUTOR, PATIENT],
    );
    check(
        "partner sees it",
        outcome(&block_on(
            h.service.presence_visible(&actor(TUTOR), STUDENT),
        )),
        "Ok".to_owned(),
    );
    for (case, who) in [("stranger", CLINICIAN), ("blocked partner", OTHER_TUTOR)] {
        let result = block_on(h.service.presence_visible(&actor(who), STUDENT));
        check(case, outcome(&result), "NotFound".to_owned());
    }
    w.hidden_presence.push(STUDENT);
    let h = Harness::new(w);
    check(
        "hidden: nobody hears",
        block_on(h.service.presence_audience(STUDENT)).unwrap(),
        Vec::new(),
    );
    check(
        "hidden: shows offline",
        block_on(h.service.presence_visible(&actor(TUTOR), STUDENT)).unwrap(),
        false,
    );
}
