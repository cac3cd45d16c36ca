//! How `Store` reaches its backend: `on_db!` runs one call on whichever backend the store has,
//! and the port macros turn each port the shared queries implement on a backend's `Db` into the
//! same port on `Store`, so that a port method is written once (in its aggregate's file under
//! `shared/`) and `Store` forwards it without a hand-written copy.
//!
//! The shared files write
//! `port! { impl SomePort for Db { async fn name(&self, a: A) -> R { ... } } }`. Each backend
//! module defines `port!`: both implement the port on their `Db` (`port_on_db!`), and the
//! PostgreSQL module also derives `Store`'s impl from the same text (`port_on_store!`), so that
//! `Store` gets exactly one impl per port. A port method's parameters are plain names.

/// Runs the same call on whichever backend the store has, and notes whether the database was
/// reachable (see `Outage`).
macro_rules! on_db {
    ($self:ident, $db:ident => $call:expr) => {{
        let result = match &$self.backend {
            $crate::Backend::Postgres($db) => $call,
            $crate::Backend::Sqlite($db) => $call,
        };
        $self.outage.observe(&result);
        result
    }};
}

/// A port implemented on the including backend's `Db`, as written.
macro_rules! port_on_db {
    (impl $port:ident for Db { $($items:tt)* }) => {
        #[async_trait::async_trait]
        impl $port for Db {
            $($items)*
        }
    };
}

/// The same port on `Store`: each method calls the backend's implementation.
macro_rules! port_on_store {
    (impl $port:ident for Db { $(
        $(#[$attr:meta])*
        async fn $name:ident(&self $(, $arg:ident: $argty:ty)* $(,)?) -> $ret:ty $body:block
    )* }) => {
        #[async_trait::async_trait]
        impl $port for $crate::Store {
            $(
                async fn $name(&self $(, $arg: $argty)*) -> $ret {
                    on_db!(self, db => $port::$name(db $(, $arg)*).await)
                }
            )*
        }
    };
}
