//! The ports: what the domain needs from the outside world. Adapters implement them; the domain's
//! tests (and other crates' tests, with the `mocks` feature) use mockall mocks of them.
//!
//! One file per aggregate: `ports/messages.rs` ([`MessageRepository`]), `ports/directory.rs`
//! ([`Directory`]), `ports/events.rs` ([`EventLog`], [`EventPublisher`]),
//! `ports/administration.rs` ([`Administration`]), `ports/accounts.rs` ([`Accounts`],
//! [`AccountStatuses`]), `ports/passwords.rs` ([`PasswordHasher`]), `ports/audit.rs`
//! ([`AuditLog`]), `ports/attachments.rs` ([`AttachmentRepository`], [`AttachmentStorage`],
//! [`VirusScanner`]) and `ports/clock.rs` ([`Clock`]); the admins' reads of the audit log
//! (`ports/audit_trail.rs`, [`AuditTrail`]), who is connected (`ports/presence_status.rs`,
//! [`PresenceStatus`]) and an admin's change to an account (`ports/account_changes.rs`,
//! [`AccountChanges`]); every port is re-exported here.

mod account_changes;
mod accounts;
mod administration;
mod attachments;
mod audit;
mod audit_trail;
mod clock;
mod directory;
mod events;
mod messages;
mod passwords;
mod presence_status;

pub use account_changes::{AccountChange, AccountChanges};
pub use accounts::{AccountStatuses, Accounts, RefreshOutcome, RefreshTokenRecord, SessionRecord};
pub use administration::Administration;
pub use attachments::{AttachmentRepository, AttachmentStorage, VirusScanner};
pub use audit::AuditLog;
pub use audit_trail::AuditTrail;
pub use clock::Clock;
pub use directory::Directory;
pub use events::{EventLog, EventPublisher};
pub use messages::MessageRepository;
pub use passwords::{HashError, PasswordHasher};
pub use presence_status::PresenceStatus;

#[cfg(any(test, feature = "mocks"))]
pub use account_changes::MockAccountChanges;
#[cfg(any(test, feature = "mocks"))]
pub use accounts::{MockAccountStatuses, MockAccounts};
#[cfg(any(test, feature = "mocks"))]
pub use administration::MockAdministration;
#[cfg(any(test, feature = "mocks"))]
pub use attachments::{MockAttachmentRepository, MockAttachmentStorage, MockVirusScanner};
#[cfg(any(test, feature = "mocks"))]
pub use audit::MockAuditLog;
#[cfg(any(test, feature = "mocks"))]
pub use audit_trail::MockAuditTrail;
#[cfg(any(test, feature = "mocks"))]
pub use clock::MockClock;
#[cfg(any(test, feature = "mocks"))]
pub use directory::MockDirectory;
#[cfg(any(test, feature = "mocks"))]
pub use events::{MockEventLog, MockEventPublisher};
#[cfg(any(test, feature = "mocks"))]
pub use messages::MockMessageRepository;
#[cfg(any(test, feature = "mocks"))]
pub use passwords::MockPasswordHasher;
#[cfg(any(test, feature = "mocks"))]
pub use presence_status::MockPresenceStatus;
