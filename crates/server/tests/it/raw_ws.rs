//! A bare WebSocket client over a TCP socket with a tiny receive buffer: it can stop reading and
//! make the server see a slow consumer at once (a normal socket's kernel buffers hide it), and it
//! can write any bytes, such as a frame header that lies about its length.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

pub struct RawWs {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RawWs {
    /// Connects and completes the upgrade, then reads nothing until told to.
    pub async fn connect(base: &str, path_and_query: &str) -> Self {
        let host = base.trim_start_matches("http://");
        let addr: SocketAddr = host.parse().unwrap();
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(65536).unwrap();
        let mut stream = socket.connect(addr).await.unwrap();
        let request = format!(
            "GET {path_and_query} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut this = Self {
            stream,
            buf: Vec::new(),
        };
        let head_end = loop {
            if let Some(end) = this.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            this.fill().await;
        };
        let head = String::from_utf8_lossy(&this.buf[..head_end]).to_string();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        this.buf.drain(..head_end);
        this
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout(Duration::from_secs(60), self.stream.read(&mut chunk))
            .await
            .expect("data within 10 s")
            .unwrap();
        assert!(n > 0, "connection closed without a close frame");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    /// Writes raw bytes (frames built with [`client_frame`] or anything else).
    pub async fn write(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Reads frames until the server's close frame: the JSON text frames and the close code and
    /// reason.
    pub async fn read_until_close(&mut self) -> (Vec<Value>, Option<(u16, String)>) {
        self.read_frames(usize::MAX).await
    }

    /// Reads up to `count` JSON text frames, stopping early at a close frame (whose code and
    /// reason come back too).
    pub async fn read_frames(&mut self, count: usize) -> (Vec<Value>, Option<(u16, String)>) {
        let mut frames = Vec::new();
        while frames.len() < count {
            let (opcode, payload) = self.next_frame().await;
            match opcode {
                0x1 => frames.push(serde_json::from_slice(&payload).unwrap()),
                0x8 => {
                    let close = (payload.len() >= 2).then(|| {
                        (
                            u16::from_be_bytes([payload[0], payload[1]]),
                            String::from_utf8_lossy(&payload[2..]).into_owned(),
                        )
                    });
                    return (frames, close);
                }
                _ => {}
            }
        }
        (frames, None)
    }

    /// One unmasked, unfragmented server frame.
    async fn next_frame(&mut self) -> (u8, Vec<u8>) {
        loop {
            if let Some((opcode, start, len)) = header(&self.buf)
                && self.buf.len() >= start + len
            {
                let payload = self.buf[start..start + len].to_vec();
                self.buf.drain(..start + len);
                return (opcode, payload);
            }
            self.fill().await;
        }
    }
}

/// A masked client frame declaring `declared` payload bytes, followed by as much of `payload` as
/// is given (a header may promise more than follows).
pub fn client_frame(fin: bool, opcode: u8, declared: u64, payload: &[u8]) -> Vec<u8> {
    const MASK: [u8; 4] = [0x1f, 0x2e, 0x3d, 0x4c];
    let mut frame = vec![if fin { 0x80 } else { 0 } | opcode];
    match declared {
        0..=125 => frame.push(0x80 | declared as u8),
        126..=0xFFFF => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(declared as u16).to_be_bytes());
        }
        _ => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&declared.to_be_bytes());
        }
    }
    frame.extend_from_slice(&MASK);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    frame
}

/// (opcode, payload start, payload length) once the header is complete.
fn header(buf: &[u8]) -> Option<(u8, usize, usize)> {
    if buf.len() < 2 {
        return None;
    }
    let opcode = buf[0] & 0x0F;
    match buf[1] & 0x7F {
        126 => {
            (buf.len() >= 4).then(|| (opcode, 4, usize::from(u16::from_be_bytes([buf[2], buf[3]]))))
        }
        127 => (buf.len() >= 10).then(|| {
            let mut len = [0u8; 8];
            len.copy_from_slice(&buf[2..10]);
            (
                opcode,
                10,
                usize::try_from(u64::from_be_bytes(len)).unwrap(),
            )
        }),
        short => Some((opcode, 2, usize::from(short))),
    }
}
