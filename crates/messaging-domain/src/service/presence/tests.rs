//! Tests for [`PresenceService`] over mockall mocks of its ports.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures_executor::block_on;

use super::*;
use crate::error::StoreError;
use crate::ports::{MockClock, MockEventPublisher, MockPresenceStatus, People, PresenceSettings};
use crate::user::{Booking, BookingId, CareAssignment, User};

// The people and presence-settings ports as one value, as the server's store is.
mockall::mock! {
    Directory {}

    #[async_trait::async_trait]
    impl People for Directory {
        async fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;
        async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;
        async fn users(&self, ids: Vec<UserId>) -> Result<Vec<User>, StoreError>;
        async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError>;
        async fn bookings_between(&self, a: UserId, b: UserId) -> Result<Vec<Booking>, StoreError>;
        async fn care_assignment(
            &self,
            clinician: UserId,
            patient: UserId,
        ) -> Result<CareAssignment, StoreError>;
        async fn conversation_partners(&self, user: UserId) -> Result<Vec<UserId>, StoreError>;
    }

    #[async_trait::async_trait]
    impl PresenceSettings for Directory {
        async fn presence_hidden(&self, user: UserId) -> Result<bool, StoreError>;
        async fn set_presence_hidden(&self, user: UserId, hidden: bool) -> Result<bool, StoreError>;
    }
}

const ME: UserId = UserId(1);
const PARTNER: UserId = UserId(2);
const OTHER_PARTNER: UserId = UserId(3);
const STRANGER: UserId = UserId(4);

type Service = PresenceService<MockDirectory, MockPresenceStatus, MockEventPublisher, MockClock>;

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

/// A world of presence: who is online (with a fresh record), who hides it, and the conversation
/// partners of `ME`, `PARTNER` and `OTHER_PARTNER` (every pair of them). What is published and
/// every setting written are recorded.
struct World {
    online: HashSet<UserId>,
    hidden: HashSet<UserId>,
}

struct Harness {
    service: Service,
    live: Arc<Mutex<Vec<LiveEvent>>>,
    settings: Arc<Mutex<Vec<(UserId, bool)>>>,
}

fn harness(world: World) -> Harness {
    let hidden = Arc::new(Mutex::new(world.hidden));
    let settings = Arc::new(Mutex::new(Vec::new()));
    let mut directory = MockDirectory::new();
    directory.expect_conversation_partners().returning(|user| {
        let circle = [ME, PARTNER, OTHER_PARTNER];
        Ok(if circle.contains(&user) {
            circle.into_iter().filter(|u| *u != user).collect()
        } else {
            Vec::new()
        })
    });
    let read = Arc::clone(&hidden);
    directory
        .expect_presence_hidden()
        .returning(move |user| Ok(read.lock().unwrap().contains(&user)));
    let write = Arc::clone(&hidden);
    let written = Arc::clone(&settings);
    directory
        .expect_set_presence_hidden()
        .returning(move |user, hide| {
            written.lock().unwrap().push((user, hide));
            let mut hidden = write.lock().unwrap();
            Ok(if hide {
                hidden.insert(user)
            } else {
                hidden.remove(&user)
            })
        });
    let mut presence = MockPresenceStatus::new();
    let online = world.online;
    presence
        .expect_online_since()
        .returning(move |user, since| {
            // The service asks for records younger than the staleness limit.
            assert_eq!(since, now() - TimeDelta::seconds(PRESENCE_STALE_SECS));
            Ok(online.contains(&user))
        });
    let live = Arc::new(Mutex::new(Vec::new()));
    let published = Arc::clone(&live);
    let mut events = MockEventPublisher::new();
    events
        .expect_publish_live()
        .returning(move |event| published.lock().unwrap().push(event));
    let mut clock = MockClock::new();
    clock.expect_now().returning(now);
    Harness {
        service: PresenceService::new(directory, presence, events, clock),
        live,
        settings,
    }
}

fn world(online: &[UserId], hidden: &[UserId]) -> World {
    World {
        online: online.iter().copied().collect(),
        hidden: hidden.iter().copied().collect(),
    }
}

fn outcome(result: Result<bool, LiveError>) -> String {
    match result {
        Ok(online) => format!("Ok({online})"),
        Err(err) => format!("{err:?}"),
    }
}

#[test]
fn a_partner_sees_presence_unless_it_is_hidden_and_a_stranger_sees_nothing() {
    for (case, online, hidden, asker, target, expected) in [
        (
            "online partner",
            vec![PARTNER],
            vec![],
            ME,
            PARTNER,
            "Ok(true)",
        ),
        ("offline partner", vec![], vec![], ME, PARTNER, "Ok(false)"),
        (
            "online partner who hides it",
            vec![PARTNER],
            vec![PARTNER],
            ME,
            PARTNER,
            "Ok(false)",
        ),
        ("oneself, online", vec![ME], vec![], ME, ME, "Ok(true)"),
        (
            "no partner",
            vec![STRANGER],
            vec![],
            ME,
            STRANGER,
            "NotFound",
        ),
        (
            "asked by a stranger",
            vec![ME],
            vec![],
            STRANGER,
            ME,
            "NotFound",
        ),
    ] {
        let h = harness(world(&online, &hidden));
        let result = block_on(h.service.presence_of(&actor(asker), target));
        check(case, outcome(result), expected.to_owned());
        check(case, h.live.lock().unwrap().clone(), Vec::new());
    }
}

#[test]
fn hiding_says_offline_first_and_showing_says_online_after() {
    let offline = |audience| LiveEvent::Presence {
        user_id: ME,
        online: false,
        audience,
    };
    let online = |audience| LiveEvent::Presence {
        user_id: ME,
        online: true,
        audience,
    };
    for (case, connected, hidden_before, show, expected) in [
        (
            "online, hides",
            vec![ME],
            vec![],
            false,
            vec![offline(vec![PARTNER, OTHER_PARTNER])],
        ),
        (
            "online, shows again",
            vec![ME],
            vec![ME],
            true,
            vec![online(vec![PARTNER, OTHER_PARTNER])],
        ),
        // Already hidden: the partners heard "offline" when it was hidden.
        ("online, hides again", vec![ME], vec![ME], false, vec![]),
        // Already shown: nothing changed, nobody hears anything.
        (
            "online, shows again while shown",
            vec![ME],
            vec![],
            true,
            vec![],
        ),
        ("offline, hides", vec![], vec![], false, vec![]),
        ("offline, shows", vec![], vec![ME], true, vec![]),
    ] {
        let h = harness(world(&connected, &hidden_before));
        block_on(h.service.set_visible(&actor(ME), show)).unwrap();
        check(case, h.live.lock().unwrap().clone(), expected);
        check(case, h.settings.lock().unwrap().clone(), vec![(ME, !show)]);
    }
}

#[test]
fn an_announcement_reaches_partners_and_nobody_while_hidden() {
    let h = harness(world(&[], &[]));
    block_on(h.service.announce(PARTNER, true)).unwrap();
    check(
        "shown",
        h.live.lock().unwrap().clone(),
        vec![LiveEvent::Presence {
            user_id: PARTNER,
            online: true,
            audience: vec![ME, OTHER_PARTNER],
        }],
    );
    let h = harness(world(&[], &[PARTNER]));
    block_on(h.service.announce(PARTNER, false)).unwrap();
    check("hidden", h.live.lock().unwrap().clone(), Vec::new());
    let h = harness(world(&[], &[]));
    block_on(h.service.announce(STRANGER, true)).unwrap();
    check("no partners", h.live.lock().unwrap().clone(), Vec::new());
}
