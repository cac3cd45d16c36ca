//! The messaging domain: every rule about who may send what to whom, and what happens to a message
//! afterwards, with no I/O and no framework.
//!
//! Adapters implement the [`ports`]; the server builds a [`MessagingService`] (and the
//! [`AccountService`], [`AdminService`], [`AttachmentService`] and [`PeopleService`]) over them.
//! Time is always an input (see [`ports::Clock`]), so every rule can be tested at a fixed instant.
//!
//! What a service embedding this crate needs is re-exported here: the services and their
//! settings, the [`Actor`] every use case is given, what a send names, each use case's error
//! enum, the port traits with the store bounds the services take ([`MessageStore`],
//! [`AccountStore`]), and what an adapter of the ports handles: a write's [`Change`] (its audit
//! record and event plan), the [`Deletion`] a store applies, and the typed [`Unique`] rules a
//! [`StoreError::Duplicate`] names. The rules themselves live in modules named after what they decide:
//! [`masking`], [`contact`], [`message`] (the edit window, per-party delete), [`attachment`] (file
//! types, names, keys, scans), [`text`] (validated input), [`accounts`] and [`people`].

#![deny(missing_docs)]

pub mod accounts;
pub mod attachment;
pub mod audit;
pub mod contact;
pub mod error;
pub mod event;
pub mod masking;
pub mod message;
pub mod people;
pub mod ports;
pub mod service;
pub mod text;
pub mod user;

pub use error::{StoreError, Unique, ValidationError};
pub use event::{Change, EventPlan, Recorded};
pub use message::{Deleted, Deletion};
pub use people::{PeopleError, PeopleService};
pub use ports::{
    AccountChange, AccountChanges, AccountStatuses, Administration, AttachmentRepository,
    AttachmentStorage, AuditLog, AuditTrail, Blocks, Clock, Credentials, EventLog, EventPublisher,
    HashError, MessageQueries, Messages, PasswordHasher, People, PeopleSearch, PresenceSettings,
    PresenceStatus, Reports, Sessions, Tickets, VirusScanner,
};
pub use service::accounts::{
    AccountService, AccountStore, AuthError, CredentialPolicy, Grant, LoginError,
    PasswordChangeError, RefreshError, RegisterError, Registration,
};
pub use service::actor::Actor;
pub use service::admin::{AdminError, AdminService, AuditReadError};
pub use service::attachments::{
    AttachmentConfig, AttachmentService, DownloadError, MessageWithFiles, SentWithFile,
};
pub use service::commands::{PreparedSend, RecipientRef, SendCommand, SendRoute};
pub use service::delete::DeleteError;
pub use service::edit::EditError;
pub use service::live::LiveError;
pub use service::presence::PresenceService;
pub use service::receipts::ReadError;
pub use service::safety::SafetyError;
pub use service::send::SendError;
pub use service::{MessageStore, MessagingConfig, MessagingService};
