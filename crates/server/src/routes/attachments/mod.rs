//! Routes that serve attachment files themselves (local-disk storage only).

pub mod file;
