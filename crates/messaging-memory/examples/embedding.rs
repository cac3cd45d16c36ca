//! Another Rust service embedding the messaging domain: the rules come from `messaging-domain`,
//! the records live in `messaging-memory`, and three adapters are this service's own (a clock it
//! moves by hand, a publisher that prints each delivery, a demonstration password hasher).
//!
//! It registers three people, sends, edits within the edit window, is refused an edit once the
//! window has passed, sees contact details masked until a booking is scheduled, and deletes a
//! message for one party only. Each rule is checked: the process exits with status 1 when one
//! does not hold, so CI runs it (`cargo run -p messaging-memory --example embedding`).

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use messaging_domain::accounts::{EmailAddress, Password, Username};
use messaging_domain::event::{DomainEvent, LiveEvent, StreamEvent};
use messaging_domain::message::{DeleteScope, EditRefusal, HistoryRequest, MessageView};
use messaging_domain::text::{LimitSpec, MessageText, Page, PageNumber, PageSize};
use messaging_domain::user::{BookingState, Role, User, UserId};
use messaging_domain::{
    AccountService, Actor, AdminService, Clock, CredentialPolicy, EditError, EventPublisher,
    HashError, MessagingConfig, MessagingService, PasswordHasher, RecipientRef, Registration,
    SendCommand, SendRoute,
};
use messaging_memory::MemoryStore;

/// This service's clock: it shows what the service sets, so the example can let 20 minutes pass
/// at once. A real service would read its own time source here.
#[derive(Debug, Clone)]
struct HandClock(Arc<Mutex<DateTime<Utc>>>);

impl HandClock {
    fn advance(&self, by: TimeDelta) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Clock for HandClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// This service's delivery: it prints what each user's devices would receive, and keeps the
/// lines so the example can check them.
#[derive(Debug, Clone, Default)]
struct PrintingPublisher(Arc<Mutex<Vec<String>>>);

impl PrintingPublisher {
    fn say(&self, line: String) {
        println!("  [deliver] {line}");
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
    }

    fn delivered(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl EventPublisher for PrintingPublisher {
    fn publish(&self, events: Vec<StreamEvent>) {
        for entry in events {
            let what = match entry.event.as_ref() {
                DomainEvent::MessageSent { view, .. } => {
                    format!("new message {:?}", view.message.body)
                }
                DomainEvent::MessageEdited { view } => format!("edited to {:?}", view.message.body),
                DomainEvent::MessageDeleted { scope, .. } => format!("deleted ({scope:?})"),
                other => format!("{other:?}"),
            };
            self.say(format!("user {} #{}: {what}", entry.user_id.0, entry.seq));
        }
    }

    fn publish_live(&self, event: LiveEvent) {
        self.say(format!("live: {event:?}"));
    }

    fn disconnect(&self, user: UserId, _session: Option<messaging_domain::accounts::SessionKey>) {
        self.say(format!("disconnect user {}", user.0));
    }

    fn account_changed(&self, user: UserId) {
        self.say(format!("account of user {} changed", user.0));
    }
}

/// A stand-in for a real password hasher (the server uses argon2id): it only marks the password,
/// which is enough for an example that never logs in. Never use it for real accounts.
#[derive(Debug, Clone, Copy)]
struct DemoHasher;

#[async_trait]
impl PasswordHasher for DemoHasher {
    async fn hash(&self, password: Password) -> Result<String, HashError> {
        Ok(format!("demo${}", password.expose().len()))
    }

    async fn verify(&self, _password: Password, _hash: Option<String>) -> Result<bool, HashError> {
        Ok(false)
    }
}

/// Stops the example with a non-zero status when a rule does not hold.
fn check(holds: bool, rule: &str) {
    if holds {
        println!("ok: {rule}");
    } else {
        eprintln!("BROKEN: {rule}");
        std::process::exit(1);
    }
}

/// Stops the example when a step fails outright.
fn step<T, E: std::fmt::Debug>(result: Result<T, E>, what: &str) -> T {
    result.unwrap_or_else(|err| {
        eprintln!("BROKEN: {what} failed: {err:?}");
        std::process::exit(1);
    })
}

fn actor(user: &User) -> Actor {
    Actor {
        user_id: user.id,
        client_addr: None,
    }
}

fn text(body: &str) -> MessageText {
    step(MessageText::parse(body), "a message body")
}

fn message_to(user: &User, body: &str) -> SendCommand {
    SendCommand {
        recipient: RecipientRef::Id(user.id),
        body: text(body),
        subject: None,
        booking_id: None,
        via: SendRoute::Direct,
        client_message_id: None,
    }
}

fn history_page() -> HistoryRequest {
    HistoryRequest {
        before: None,
        page: Page {
            number: PageNumber::first(),
            size: PageSize::or_default(Some(50), LimitSpec::HISTORY),
        },
    }
}

fn bodies(views: &[MessageView]) -> Vec<&str> {
    views.iter().map(|v| v.message.body.as_str()).collect()
}

fn main() {
    futures_executor::block_on(run());
}

async fn run() {
    let store = MemoryStore::new();
    let start = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).single();
    let clock = HandClock(Arc::new(Mutex::new(step(
        start.ok_or("no such instant"),
        "the start time",
    ))));
    let publisher = PrintingPublisher::default();
    let messaging = MessagingService::new(
        store.clone(),
        publisher.clone(),
        clock.clone(),
        MessagingConfig::default(),
    );
    let accounts = AccountService::new(
        store.clone(),
        store.clone(),
        store.clone(),
        DemoHasher,
        publisher.clone(),
        clock.clone(),
        CredentialPolicy::default(),
    );
    let admin = AdminService::new(
        store.clone(),
        store.clone(),
        publisher.clone(),
        clock.clone(),
    );

    let register = async |name: &str, role: Role| {
        let form = Registration {
            username: step(Username::parse_new(name), "a user name"),
            email: step(
                EmailAddress::parse(&format!("{name}@example.com")),
                "an address",
            ),
            password: step(
                Password::parse_new("correct horse battery".into(), "password"),
                "a password",
            ),
            first_name: name.to_owned(),
            last_name: String::new(),
        };
        step(accounts.register(form, role, None).await, "registration")
    };
    let alice = register("alice", Role::Student).await;
    let tom = register("tom", Role::Tutor).await;
    let ada = register("ada", Role::Admin).await;
    println!(
        "registered alice ({}), tom ({}), ada ({})",
        alice.id.0, tom.id.0, ada.id.0
    );

    // Before any booking, contact details are masked.
    let first = step(
        messaging
            .send(
                &actor(&alice),
                message_to(&tom, "Hi Tom! Call me on 0151 496 0000."),
            )
            .await,
        "alice's first message",
    );
    println!("stored: {:?}", first.message.body);
    check(
        !first.message.body.contains("496 0000"),
        "a phone number is masked before a booking",
    );

    // Within the 15-minute window the sender may edit.
    clock.advance(TimeDelta::minutes(5));
    let edited = step(
        messaging
            .edit(
                &actor(&alice),
                first.message.id,
                text("Hi Tom! When can we meet?"),
            )
            .await,
        "an edit within the window",
    );
    check(
        edited.message.is_edited() && edited.message.body == "Hi Tom! When can we meet?",
        "the sender edits within 15 minutes",
    );

    // Twenty minutes after sending, the window has passed.
    clock.advance(TimeDelta::minutes(15));
    let late = messaging
        .edit(&actor(&alice), first.message.id, text("too late"))
        .await;
    check(
        matches!(
            late,
            Err(EditError::Refused(EditRefusal::WindowExpired {
                minutes: 15
            }))
        ),
        "an edit after 15 minutes is refused",
    );

    // Once a booking is scheduled, the two may exchange contact details.
    step(
        admin
            .create_booking(&actor(&ada), alice.id, tom.id, BookingState::Scheduled)
            .await,
        "the booking",
    );
    let second = step(
        messaging
            .send(
                &actor(&tom),
                message_to(&alice, "Great, call me on 0151 496 0000."),
            )
            .await,
        "tom's reply",
    );
    check(
        second.message.body.contains("0151 496 0000"),
        "contact details pass once a booking is scheduled",
    );

    // Tom deletes Alice's message for himself: gone for him, still there for her.
    step(
        messaging
            .delete(&actor(&tom), first.message.id, DeleteScope::ForMe)
            .await,
        "tom's delete for himself",
    );
    let toms = step(
        messaging
            .history(&actor(&tom), alice.id, None, history_page())
            .await,
        "tom's history",
    );
    let alices = step(
        messaging
            .history(&actor(&alice), tom.id, None, history_page())
            .await,
        "alice's history",
    );
    println!(
        "tom sees {:?}; alice sees {:?}",
        bodies(&toms.messages),
        bodies(&alices.messages)
    );
    check(
        bodies(&toms.messages) == ["Great, call me on 0151 496 0000."],
        "a delete for me hides the message from the deleter",
    );
    check(
        bodies(&alices.messages)
            == [
                "Hi Tom! When can we meet?",
                "Great, call me on 0151 496 0000.",
            ],
        "and only from the deleter",
    );

    // The service's own publisher was handed every stored event after its change.
    let delivered = publisher.delivered();
    check(
        delivered.iter().any(|line| {
            line.starts_with(&format!("user {} ", tom.id.0)) && line.contains("new message")
        }),
        "the publisher delivered alice's message to tom",
    );
    check(
        delivered
            .iter()
            .any(|line| line.contains("deleted (ForMe)")),
        "the publisher delivered tom's delete to tom's devices",
    );
    println!("every rule held");
}
