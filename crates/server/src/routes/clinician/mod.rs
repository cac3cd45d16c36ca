//! System B's clinician route.

pub mod message;
pub mod patients;
