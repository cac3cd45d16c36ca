//! Fresh stores for each test.

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use messaging_store::Store;

// The contract's helpers (users, audit records, sends, pages) serve the store's own tests too.
pub use messaging_contract::support::{audit, no_events, page, send, user};

/// A SQLite store in a temporary directory that lives as long as the process.
pub async fn sqlite_store() -> Store {
    let dir = std::env::temp_dir().join(format!("messaging-store-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("test.db").display());
    let store = Store::connect(&url, 1).unwrap();
    store.migrate().await.unwrap();
    store
}

/// A fresh SQLite store, in the shape the contract suite asks for.
pub async fn fresh_sqlite_store() -> Option<Store> {
    Some(sqlite_store().await)
}

/// A PostgreSQL store on a new database named `msgtest_<uuid>`, or `None` when PostgreSQL is not
/// reachable and not required.
pub async fn postgres_store() -> Option<Store> {
    let admin_url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let required = std::env::var("MESSAGING_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    let mut admin = match AsyncPgConnection::establish(&admin_url).await {
        Ok(conn) => conn,
        Err(err) if !required => {
            eprintln!("SKIPPED: PostgreSQL unreachable at TEST_DATABASE_URL ({err})");
            return None;
        }
        Err(err) => panic!("PostgreSQL is required but unreachable: {err}"),
    };
    let name = format!("msgtest_{}", uuid::Uuid::new_v4().simple());
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    let store = Store::connect(&format!("{base}/{name}"), 4).unwrap();
    store.migrate().await.unwrap();
    Some(store)
}

/// A direct connection to a store's database that goes around the store, for tests that play
/// someone with database access.
pub enum RawDb {
    // Boxed: the PostgreSQL connection is several times the size of SQLite's.
    Postgres(Box<AsyncPgConnection>),
    Sqlite(diesel::SqliteConnection),
}

impl RawDb {
    /// Runs SQL; the error is the database's message.
    pub async fn execute(&mut self, sql: &str) -> Result<(), String> {
        match self {
            RawDb::Postgres(conn) => conn.batch_execute(sql).await.map_err(|e| e.to_string()),
            RawDb::Sqlite(conn) => diesel::connection::SimpleConnection::batch_execute(conn, sql)
                .map_err(|e| e.to_string()),
        }
    }

    /// Turns off the audit log's append-only triggers, as someone with full access could.
    pub async fn bypass_append_only(&mut self) {
        let sql = match self {
            RawDb::Postgres(_) => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
            RawDb::Sqlite(_) => {
                "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete"
            }
        };
        self.execute(sql).await.unwrap();
    }

    /// Uses up `n` audit ids without writing entries, as rolled-back transactions do.
    pub async fn skip_audit_ids(&mut self, n: u32) {
        let sql = match self {
            RawDb::Postgres(_) => {
                format!("SELECT nextval('audit_log_id_seq') FROM generate_series(1, {n})")
            }
            RawDb::Sqlite(_) => {
                format!("UPDATE sqlite_sequence SET seq = seq + {n} WHERE name = 'audit_log'")
            }
        };
        self.execute(&sql).await.unwrap();
    }
}

/// A fresh store of the given kind with a direct connection to its database. PostgreSQL must be
/// reachable: callers get here only from a test whose PostgreSQL store was created.
pub async fn store_with_raw_db(kind: messaging_store::DatabaseKind) -> (Store, RawDb) {
    match kind {
        messaging_store::DatabaseKind::Sqlite => {
            let dir =
                std::env::temp_dir().join(format!("messaging-store-test-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("test.db").display().to_string();
            let store = Store::connect(&format!("sqlite://{path}"), 1).unwrap();
            store.migrate().await.unwrap();
            let mut raw =
                <diesel::SqliteConnection as diesel::Connection>::establish(&path).unwrap();
            // The store's connection may hold the write lock for a moment; wait rather than fail.
            diesel::connection::SimpleConnection::batch_execute(
                &mut raw,
                "PRAGMA busy_timeout = 5000",
            )
            .unwrap();
            (store, RawDb::Sqlite(raw))
        }
        messaging_store::DatabaseKind::Postgres => {
            let admin_url = std::env::var("TEST_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
            let mut admin = AsyncPgConnection::establish(&admin_url).await.unwrap();
            let name = format!("msgtest_{}", uuid::Uuid::new_v4().simple());
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            let base = admin_url
                .rsplit_once('/')
                .map_or(admin_url.as_str(), |(b, _)| b);
            let url = format!("{base}/{name}");
            let store = Store::connect(&url, 4).unwrap();
            store.migrate().await.unwrap();
            let raw = AsyncPgConnection::establish(&url).await.unwrap();
            (store, RawDb::Postgres(Box::new(raw)))
        }
    }
}
