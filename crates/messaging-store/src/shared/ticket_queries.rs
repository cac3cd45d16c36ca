// WebSocket tickets (the `Tickets` port), stored by hash, for both backends.

port! {
impl Tickets for Db {
    async fn insert_ws_ticket(&self, ticket: TicketRecord) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        diesel::insert_into(ws_tickets::table)
            .values((
                ws_tickets::ticket_hash.eq(ticket.ticket_hash),
                ws_tickets::user_id.eq(ticket.user_id.0),
                ws_tickets::expires_at.eq(ticket.expires_at),
                ws_tickets::credential_version.eq(ticket.credential_version),
                ws_tickets::session_hash.eq(ticket.session.map(|s| s.0)),
            ))
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(())
    }

    /// Uses a ticket: returns it if it exists, has not expired and was never used; marks it used
    /// in the same statement, so two redemptions cannot both succeed. Expired tickets are swept
    /// on the way.
    async fn redeem_ws_ticket(
        &self,
        ticket_hash: String,
        now: DateTime<Utc>,
    ) -> Result<Option<TicketRecord>, StoreError> {
        let mut conn = self.conn().await?;
        let row: Option<(i64, DateTime<Utc>, i64, Option<String>)> = diesel::update(
            ws_tickets::table
                .find(&ticket_hash)
                .filter(ws_tickets::used_at.is_null())
                .filter(ws_tickets::expires_at.gt(now)),
        )
        .set(ws_tickets::used_at.eq(Some(now)))
        .returning((
            ws_tickets::user_id,
            ws_tickets::expires_at,
            ws_tickets::credential_version,
            ws_tickets::session_hash,
        ))
        .get_result(&mut *conn)
        .await
        .optional()
        .map_err(DbError::from)?;
        Sql::delete_expired_tickets(&mut conn, now).await?;
        Ok(row.map(|(user, expires_at, credential_version, session)| TicketRecord {
            ticket_hash,
            user_id: UserId(user),
            credential_version,
            session: session.map(SessionKey),
            expires_at,
        }))
    }
}
}
