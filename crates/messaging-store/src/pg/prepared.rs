//! Hand-written SQL that PostgreSQL prepares once per connection.
//!
//! Diesel's `sql_query` marks itself unsafe to cache: each run is prepared afresh (a round trip
//! of its own, then PostgreSQL parses and plans the text again). The hot statements written by
//! hand (the group commit's, the rate limiter's) go through [`Prepared`] instead: the same text
//! with the same bind types is prepared once per connection and reused, as the query builder's
//! statements are.

use diesel::QueryResult;
use diesel::expression::{AsExpression, TypedExpressionType};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{SqlType, Untyped};

/// One statement: its text and its bound values, in the order of their `$n` in the text.
pub(crate) struct Prepared {
    sql: &'static str,
    binds: Vec<Box<dyn QueryFragment<Pg> + Send + Sync>>,
}

/// Starts a statement; `sql` numbers its parameters `$1`, `$2`, ... in the order they appear,
/// each once.
pub(crate) fn prepared(sql: &'static str) -> Prepared {
    Prepared {
        sql,
        binds: Vec::new(),
    }
}

impl Prepared {
    /// Binds the next parameter as the SQL type `ST`.
    pub(crate) fn bind<ST, T>(mut self, value: T) -> Self
    where
        ST: SqlType + TypedExpressionType,
        T: AsExpression<ST>,
        T::Expression: QueryFragment<Pg> + Send + Sync + 'static,
    {
        self.binds
            .push(Box::new(AsExpression::<ST>::as_expression(value)));
        self
    }
}

impl QueryFragment<Pg> for Prepared {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // The text between the placeholders, with each bound value where its `$n` stood (diesel
        // numbers them again, in the same order).
        let mut rest = self.sql;
        let mut binds = self.binds.iter();
        while let Some(at) = rest.find('$') {
            out.push_sql(&rest[..at]);
            let digits = rest[at + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len() - at - 1);
            if digits == 0 {
                out.push_sql("$");
                rest = &rest[at + 1..];
                continue;
            }
            let bind = binds.next().ok_or_else(|| {
                diesel::result::Error::QueryBuilderError("a parameter has no bound value".into())
            })?;
            bind.walk_ast(out.reborrow())?;
            rest = &rest[at + 1 + digits..];
        }
        out.push_sql(rest);
        if binds.next().is_some() {
            return Err(diesel::result::Error::QueryBuilderError(
                "more bound values than parameters".into(),
            ));
        }
        Ok(())
    }
}

impl QueryId for Prepared {
    // Cached by its text and bind types (the statement cache's key for queries without a
    // static id).
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared {
    type SqlType = Untyped;
}
