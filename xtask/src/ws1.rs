//! The minimal RFC 6455 client pieces `bench ws` and `chaos` share: a hand-written WebSocket
//! client over tokio, so that no client library's cost is measured as the server's.

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::http1::{find, read_more};

/// One frame's place in a read buffer.
pub struct Frame {
    /// The last frame of its message.
    pub fin: bool,
    /// 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong.
    pub opcode: u8,
    /// Where the payload is in the buffer.
    pub payload: std::ops::Range<usize>,
    /// The frame's length in the buffer, header included.
    pub used: usize,
}

/// One server frame (unmasked) from the front of `buffer`, if it is all there.
pub fn parse_frame(buffer: &[u8]) -> Result<Option<Frame>, String> {
    if buffer.len() < 2 {
        return Ok(None);
    }
    if buffer[1] & 0x80 != 0 {
        return Err("the server sent a masked frame".into());
    }
    let (length, header) = match buffer[1] & 0x7F {
        126 if buffer.len() >= 4 => (usize::from(u16::from_be_bytes([buffer[2], buffer[3]])), 4),
        127 if buffer.len() >= 10 => {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&buffer[2..10]);
            (
                usize::try_from(u64::from_be_bytes(bytes)).map_err(|e| e.to_string())?,
                10,
            )
        }
        126 | 127 => return Ok(None),
        short => (usize::from(short), 2),
    };
    if buffer.len() < header + length {
        return Ok(None);
    }
    Ok(Some(Frame {
        fin: buffer[0] & 0x80 != 0,
        opcode: buffer[0] & 0x0F,
        payload: header..header + length,
        used: header + length,
    }))
}

/// A masked client frame (control frames only: payload under 126 bytes).
pub fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
    let payload = &payload[..payload.len().min(125)];
    let mut frame = Vec::with_capacity(6 + payload.len());
    frame.push(0x80 | opcode);
    frame.push(0x80 | payload.len() as u8);
    frame.extend_from_slice(&MASK);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    frame
}

/// A close frame's code and reason, for messages.
pub fn close_reason(payload: &[u8]) -> String {
    if payload.len() < 2 {
        return "no code".into();
    }
    format!(
        "{} {}",
        u16::from_be_bytes([payload[0], payload[1]]),
        String::from_utf8_lossy(&payload[2..])
    )
}

/// Connects to `/ws?{query}`, upgrades and reads the `connected` frame; returns the stream, any
/// bytes read past that frame, and the frame's text.
pub async fn open_socket(port: u16, query: &str) -> Result<(TcpStream, Vec<u8>, String), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let request = format!(
        "GET /ws?{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("upgrade request: {e}"))?;
    let mut buffer = Vec::with_capacity(1024);
    let head_end = loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            break end;
        }
        read_more(&mut stream, &mut buffer).await?;
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    if head.split_whitespace().nth(1) != Some("101") {
        return Err(format!(
            "upgrade answered {}",
            head.lines().next().unwrap_or_default()
        ));
    }
    buffer.drain(..head_end + 4);
    loop {
        while let Some(frame) = parse_frame(&buffer)? {
            let payload = &buffer[frame.payload.clone()];
            match frame.opcode {
                0x1 if find(payload, b"\"type\":\"connected\"").is_some() => {
                    let connected = String::from_utf8_lossy(payload).into_owned();
                    buffer.drain(..frame.used);
                    return Ok((stream, buffer, connected));
                }
                0x8 => {
                    return Err(format!(
                        "closed before connected: {}",
                        close_reason(payload)
                    ));
                }
                0x9 => {
                    let pong = client_frame(0xA, payload);
                    stream.write_all(&pong).await.map_err(|e| e.to_string())?;
                }
                _ => {}
            }
            buffer.drain(..frame.used);
        }
        read_more(&mut stream, &mut buffer).await?;
    }
}

/// Reads the next whole text message (joining fragments, answering pings).
///
/// # Errors
/// A description when the connection ends, is closed by the server or breaks the protocol.
pub async fn next_text(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Result<Vec<u8>, String> {
    let mut fragments: Vec<u8> = Vec::new();
    loop {
        while let Some(frame) = parse_frame(buffer)? {
            let payload = buffer[frame.payload.clone()].to_vec();
            buffer.drain(..frame.used);
            match frame.opcode {
                0x0 | 0x1 => {
                    fragments.extend_from_slice(&payload);
                    if frame.fin {
                        return Ok(fragments);
                    }
                }
                0x8 => return Err(format!("closed by the server: {}", close_reason(&payload))),
                0x9 => {
                    let pong = client_frame(0xA, &payload);
                    stream
                        .write_all(&pong)
                        .await
                        .map_err(|e| format!("pong: {e}"))?;
                }
                _ => {}
            }
        }
        read_more(stream, buffer).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse_with_short_and_extended_lengths() {
        let mut frame = vec![0x81, 3];
        frame.extend_from_slice(b"abc");
        let parsed = parse_frame(&frame)
            .ok()
            .flatten()
            .map(|f| (f.fin, f.opcode, f.used));
        assert_eq!(parsed, Some((true, 1, 5)));
        let mut long = vec![0x81, 126, 0, 200];
        long.extend(std::iter::repeat_n(b'x', 200));
        assert_eq!(parse_frame(&long).ok().flatten().map(|f| f.used), Some(204));
        assert!(matches!(parse_frame(&long[..100]), Ok(None)));
    }
}
