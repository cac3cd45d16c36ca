//! The caller's own account: who they are, their settings, their password.

pub mod password;
pub mod profile;
