//! The directory: whom the caller may start a conversation with.

pub mod directory;
