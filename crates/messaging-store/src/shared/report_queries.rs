// Reports of messages (the `Reports` port), for both backends.

#[derive(Queryable, Selectable)]
#[diesel(table_name = reports)]
struct ReportRow {
    id: i64,
    reporter_id: i64,
    message_id: i64,
    reason: String,
    created_at: DateTime<Utc>,
}

impl From<ReportRow> for Report {
    fn from(row: ReportRow) -> Self {
        Report {
            id: row.id,
            reporter_id: UserId(row.reporter_id),
            message_id: MessageId(row.message_id),
            reason: row.reason,
            created_at: row.created_at,
        }
    }
}

port! {
impl Reports for Db {
    async fn insert_report(
        &self,
        report: NewReport,
        audit: AuditRecord,
    ) -> Result<Report, StoreError> {
        let mut conn = self.conn().await?;
        let row = conn
            .transaction::<_, DbError, _>(async move |conn| {
                let row: ReportRow = diesel::insert_into(reports::table)
                    .values((
                        reports::reporter_id.eq(report.reporter_id.0),
                        reports::message_id.eq(report.message_id.0),
                        reports::reason.eq(&report.reason),
                        reports::created_at.eq(report.created_at),
                    ))
                    .returning(ReportRow::as_returning())
                    .get_result(conn)
                    .await?;
                insert_audit(conn, &audit).await?;
                Ok(row)
            })
            .await?;
        Ok(row.into())
    }

    async fn reports(&self, page: Page) -> Result<Vec<Report>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<ReportRow> = reports::table
            .order(reports::id.desc())
            .limit(page.limit())
            .offset(page.offset())
            .select(ReportRow::as_select())
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(rows.into_iter().map(Report::from).collect())
    }
}
}
