//! The minimal HTTP/1.1 client pieces the benchmarks share: their load is written by hand over
//! keep-alive connections, so that no client library's cost is counted as the server's.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads whatever the connection has next onto the end of `buffer`.
pub async fn read_more(
    stream: &mut (impl AsyncRead + Unpin),
    buffer: &mut Vec<u8>,
) -> Result<(), String> {
    let mut chunk = [0u8; 4096];
    let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
    if n == 0 {
        return Err("connection closed".into());
    }
    buffer.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// Where `needle` first occurs in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads one HTTP/1.1 response with a Content-Length body into `buffer`; returns its status.
pub async fn read_response(
    conn: &mut (impl AsyncRead + Unpin),
    buffer: &mut Vec<u8>,
) -> Result<u16, String> {
    buffer.clear();
    loop {
        if let Some(end) = find(buffer, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_string();
            let status: u16 = head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .ok_or("unreadable status line")?;
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buffer.len() < end + 4 + length {
                read_more(conn, buffer).await?;
            }
            return Ok(status);
        }
        read_more(conn, buffer).await?;
    }
}

/// One `POST` of a JSON body on a connection of its own (`Connection: close`); returns the
/// status and the response body.
pub async fn post_json(
    port: u16,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Result<(u16, Vec<u8>), String> {
    let mut conn = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    let authorization = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{authorization}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut buffer = Vec::new();
    let status = read_response(&mut conn, &mut buffer).await?;
    let start = find(&buffer, b"\r\n\r\n").map_or(buffer.len(), |end| end + 4);
    Ok((status, buffer.split_off(start)))
}
