//! Self-service safety: blocking users and reporting messages.

pub mod block;
pub mod report;
