//! The ports: what the domain needs from the outside world. Adapters implement them; the domain's
//! tests (and other crates' tests, with the `mocks` feature) use mockall mocks of them.
//!
//! One file per aggregate, with writes and reads apart where both are many:
//! - messages: `ports/messages.rs` ([`Messages`], every change to a message, each taking one
//!   [`Change`](crate::event::Change)), `ports/message_queries.rs` ([`MessageQueries`]) and
//!   `ports/reports.rs` ([`Reports`]);
//! - people: `ports/people.rs` ([`People`]: users, bookings, care assignments, conversation
//!   partners), `ports/people_search.rs` ([`PeopleSearch`]), `ports/blocks.rs` ([`Blocks`]),
//!   `ports/presence.rs` ([`PresenceSettings`]) and `ports/administration.rs`
//!   ([`Administration`], what admins change);
//! - accounts: `ports/credentials.rs` ([`Credentials`]), `ports/sessions.rs` ([`Sessions`], with
//!   refresh tokens), `ports/tickets.rs` ([`Tickets`], WebSocket tickets),
//!   `ports/statuses.rs` ([`AccountStatuses`]) and `ports/passwords.rs` ([`PasswordHasher`]);
//! - `ports/audit.rs` ([`AuditLog`]), `ports/events.rs` ([`EventLog`], [`EventPublisher`]),
//!   `ports/attachments.rs` ([`AttachmentRepository`], [`AttachmentStorage`],
//!   [`VirusScanner`]) and `ports/clock.rs` ([`Clock`]).
//!
//! Every port is re-exported here.

mod administration;
mod attachments;
mod audit;
mod blocks;
mod clock;
mod credentials;
mod events;
mod message_queries;
mod messages;
mod passwords;
mod people;
mod people_search;
mod presence;
mod reports;
mod sessions;
mod statuses;
mod tickets;

pub use administration::Administration;
pub use attachments::{AttachmentRepository, AttachmentStorage, VirusScanner};
pub use audit::AuditLog;
pub use blocks::Blocks;
pub use clock::Clock;
pub use credentials::Credentials;
pub use events::{EventLog, EventPublisher};
pub use message_queries::MessageQueries;
pub use messages::Messages;
pub use passwords::{HashError, PasswordHasher};
pub use people::People;
pub use people_search::PeopleSearch;
pub use presence::PresenceSettings;
pub use reports::Reports;
pub use sessions::{RefreshOutcome, RefreshTokenRecord, SessionRecord, Sessions};
pub use statuses::AccountStatuses;
pub use tickets::Tickets;

#[cfg(any(test, feature = "mocks"))]
pub use administration::MockAdministration;
#[cfg(any(test, feature = "mocks"))]
pub use attachments::{MockAttachmentRepository, MockAttachmentStorage, MockVirusScanner};
#[cfg(any(test, feature = "mocks"))]
pub use audit::MockAuditLog;
#[cfg(any(test, feature = "mocks"))]
pub use blocks::MockBlocks;
#[cfg(any(test, feature = "mocks"))]
pub use clock::MockClock;
#[cfg(any(test, feature = "mocks"))]
pub use credentials::MockCredentials;
#[cfg(any(test, feature = "mocks"))]
pub use events::{MockEventLog, MockEventPublisher};
#[cfg(any(test, feature = "mocks"))]
pub use message_queries::MockMessageQueries;
#[cfg(any(test, feature = "mocks"))]
pub use messages::MockMessages;
#[cfg(any(test, feature = "mocks"))]
pub use passwords::MockPasswordHasher;
#[cfg(any(test, feature = "mocks"))]
pub use people::MockPeople;
#[cfg(any(test, feature = "mocks"))]
pub use people_search::MockPeopleSearch;
#[cfg(any(test, feature = "mocks"))]
pub use presence::MockPresenceSettings;
#[cfg(any(test, feature = "mocks"))]
pub use reports::MockReports;
#[cfg(any(test, feature = "mocks"))]
pub use sessions::MockSessions;
#[cfg(any(test, feature = "mocks"))]
pub use statuses::MockAccountStatuses;
#[cfg(any(test, feature = "mocks"))]
pub use tickets::MockTickets;
