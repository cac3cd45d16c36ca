//! The messaging domain: every rule about who may send what to whom, and what happens to a message
//! afterwards, with no I/O and no framework.
//!
//! Adapters implement the [`ports`]; the server builds a [`MessagingService`] over them. Time is
//! always an input (see [`ports::Clock`]), so every rule can be tested at a fixed instant.

pub mod accounts;
pub mod admin;
pub mod attachment;
pub mod attachment_service;
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

pub use error::{StoreError, ValidationError};
pub use service::{MessagingConfig, MessagingService};
