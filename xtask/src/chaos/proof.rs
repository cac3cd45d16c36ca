//! The proof from the recipients' side: histories and replayed streams, each acknowledged
//! message exactly once, no gap.

use super::*;

// ---- The proof ----

#[derive(Debug, Default)]
pub(super) struct Check {
    pub(super) history: Tally,
    pub(super) stream: Tally,
    pub(super) gaps: usize,
    pub(super) entries: usize,
    pub(super) streams: usize,
}

/// What one view of recipients' messages holds against what was acknowledged, as the messages'
/// bodies (each names its sender and number).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Tally {
    /// Acknowledged messages missing, or present only under another id.
    pub(super) lost: BTreeSet<String>,
    /// Messages stored or delivered more than once.
    pub(super) duplicated: BTreeSet<String>,
    /// Messages nobody sent (neither acknowledged nor given up on).
    pub(super) unexpected: BTreeSet<String>,
}

impl Tally {
    /// Compares `found` (body → ids) with the `acknowledged` bodies and their ids; messages
    /// given up on (`unacknowledged`) may be there once.
    pub(super) fn compare(
        &mut self,
        acknowledged: &HashMap<&str, i64>,
        unacknowledged: &[(i64, String)],
        found: &HashMap<String, Vec<i64>>,
    ) {
        for (body, id) in acknowledged {
            if !found.get(*body).is_some_and(|ids| ids.contains(id)) {
                self.lost.insert((*body).to_owned());
            }
        }
        for (body, ids) in found {
            if ids.len() > 1 {
                self.duplicated.insert(body.clone());
            }
            let known = acknowledged.contains_key(body.as_str())
                || unacknowledged.iter().any(|(_, b)| b == body);
            if !known {
                self.unexpected.insert(body.clone());
            }
        }
    }

    pub(super) fn is_clean(&self) -> bool {
        *self == Self::default()
    }
}

/// Entries missing from 1..=latest, counting an entry out of order or repeated as one.
pub(super) fn gaps(entries: &[Value]) -> usize {
    entries
        .iter()
        .zip(1u64..)
        .filter(|(entry, expected)| entry["seq"].as_u64() != Some(*expected))
        .count()
}

/// The whole history between the token's user and `other`, every page.
pub(super) async fn history_with(port: u16, token: &str, other: i64) -> Result<Vec<Value>, String> {
    let mut messages = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let mut path = format!("/api/messages/threads/{other}?page_size=100");
        if let Some(before) = before {
            path.push_str(&format!("&before={before}"));
        }
        let page = get(port, token, &path).await?;
        let batch = page["messages"].as_array().cloned().unwrap_or_default();
        messages.extend(batch);
        match (page["has_more"].as_bool(), page["next_before"].as_i64()) {
            (Some(true), Some(next)) => before = Some(next),
            _ => return Ok(messages),
        }
    }
}

pub(super) async fn get(port: u16, token: &str, path: &str) -> Result<Value, String> {
    let mut conn = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    conn.write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut buffer = Vec::new();
    let status = tokio::time::timeout(ATTEMPT_TIMEOUT, read_response(&mut conn, &mut buffer))
        .await
        .map_err(|_| format!("GET {path}: timeout"))??;
    if status != 200 {
        return Err(format!("GET {path}: HTTP {status}"));
    }
    json_body(&buffer)
}

/// Every entry of the token's user's stream, replayed over a WebSocket from `since=0`.
pub(super) async fn replay(port: u16, token: &str) -> Result<Vec<Value>, String> {
    let (mut stream, mut buffer, connected) =
        open_socket(port, &format!("token={token}&since=0")).await?;
    let connected: Value = serde_json::from_str(&connected).map_err(|e| e.to_string())?;
    let latest = connected["latest_seq"]
        .as_u64()
        .ok_or("connected without latest_seq")?;
    let mut entries = Vec::new();
    let mut last = 0;
    while last < latest {
        let text = tokio::time::timeout(ATTEMPT_TIMEOUT, next_text(&mut stream, &mut buffer))
            .await
            .map_err(|_| format!("the replay stalled after entry {last} of {latest}"))??;
        let frame: Value = serde_json::from_slice(&text).map_err(|e| e.to_string())?;
        if frame["type"] == "resync_required" {
            return Err(format!("the replay asked for a resync after entry {last}"));
        }
        if let Some(seq) = frame["seq"].as_u64() {
            last = seq;
            entries.push(frame);
        }
    }
    Ok(entries)
}
