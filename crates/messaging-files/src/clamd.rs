//! ClamAV's daemon, clamd, over its INSTREAM command on a TCP or Unix socket.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use messaging_domain::StoreError;
use messaging_domain::attachment::ScanVerdict;
use messaging_domain::ports::VirusScanner;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes sent per INSTREAM chunk.
const CHUNK: usize = 64 * 1024;
/// The longest reply read back.
const MAX_REPLY: u64 = 4 * 1024;

/// Where clamd listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClamdAddress {
    /// `host:port` (or `tcp://host:port`).
    Tcp(String),
    /// A Unix socket path (`unix:/path` or an absolute path).
    Unix(PathBuf),
}

impl FromStr for ClamdAddress {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        if let Some(path) = raw.strip_prefix("unix:") {
            return Ok(Self::Unix(PathBuf::from(path)));
        }
        if raw.starts_with('/') {
            return Ok(Self::Unix(PathBuf::from(raw)));
        }
        let address = raw.strip_prefix("tcp://").unwrap_or(raw);
        if address
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
        {
            Ok(Self::Tcp(address.to_owned()))
        } else {
            Err(format!(
                "clamd address must be host:port or unix:/path, got {raw:?}"
            ))
        }
    }
}

impl std::fmt::Display for ClamdAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tcp(address) => write!(f, "tcp://{address}"),
            Self::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// Scans files by streaming them to clamd.
#[derive(Debug, Clone)]
pub struct ClamdScanner {
    address: ClamdAddress,
    timeout: Duration,
}

/// What went wrong talking to clamd.
#[derive(Debug, thiserror::Error)]
enum ClamdError {
    #[error("clamd i/o")]
    Io(#[from] std::io::Error),
    #[error("clamd did not answer in time")]
    Timeout,
    #[error("clamd answered {0:?}")]
    Unexpected(String),
}

impl ClamdScanner {
    /// A scanner talking to clamd at `address`, giving up on one file after `timeout`.
    #[must_use]
    pub fn new(address: ClamdAddress, timeout: Duration) -> Self {
        Self { address, timeout }
    }

    /// Where it connects.
    #[must_use]
    pub fn address(&self) -> &ClamdAddress {
        &self.address
    }

    /// Checks clamd answers `PING`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let reply = self
            .exchange(|stream| Box::pin(ping(stream)))
            .await
            .map_err(StoreError::backend)?;
        if reply == "PONG" {
            Ok(())
        } else {
            Err(StoreError::backend(ClamdError::Unexpected(reply)))
        }
    }

    async fn exchange<F>(&self, talk: F) -> Result<String, ClamdError>
    where
        F: for<'a> FnOnce(
            &'a mut (dyn Duplex + 'a),
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<String, ClamdError>> + Send + 'a>,
        >,
    {
        let work = async {
            match &self.address {
                ClamdAddress::Tcp(address) => {
                    let mut stream = tokio::net::TcpStream::connect(address).await?;
                    talk(&mut stream).await
                }
                #[cfg(unix)]
                ClamdAddress::Unix(path) => {
                    let mut stream = tokio::net::UnixStream::connect(path).await?;
                    talk(&mut stream).await
                }
                #[cfg(not(unix))]
                ClamdAddress::Unix(_) => Err(ClamdError::Unexpected(
                    "unix sockets are not supported here".into(),
                )),
            }
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| ClamdError::Timeout)?
    }
}

/// A connected socket of either kind.
trait Duplex: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Duplex for T {}

async fn ping(stream: &mut (dyn Duplex + '_)) -> Result<String, ClamdError> {
    stream.write_all(b"zPING\0").await?;
    read_reply(stream).await
}

async fn instream(stream: &mut (dyn Duplex + '_), bytes: &[u8]) -> Result<String, ClamdError> {
    stream.write_all(b"zINSTREAM\0").await?;
    for chunk in bytes.chunks(CHUNK) {
        let len = u32::try_from(chunk.len())
            .map_err(|_| ClamdError::Unexpected("chunk too large".into()))?;
        stream.write_all(&len.to_be_bytes()).await?;
        stream.write_all(chunk).await?;
    }
    stream.write_all(&0u32.to_be_bytes()).await?;
    stream.flush().await?;
    read_reply(stream).await
}

/// Reads a NUL-terminated reply (clamd closes the connection after it, too).
async fn read_reply(stream: &mut (dyn Duplex + '_)) -> Result<String, ClamdError> {
    let mut reply = Vec::new();
    stream.take(MAX_REPLY).read_to_end(&mut reply).await?;
    let text = String::from_utf8_lossy(&reply);
    Ok(text.trim_end_matches(['\0', '\n']).to_owned())
}

/// Reads clamd's verdict line: `stream: OK`, `stream: <signature> FOUND`, or an error.
fn verdict(reply: &str) -> Result<ScanVerdict, ClamdError> {
    let body = reply.strip_prefix("stream: ").unwrap_or(reply);
    if body == "OK" {
        Ok(ScanVerdict::Clean)
    } else if let Some(signature) = body.strip_suffix(" FOUND") {
        Ok(ScanVerdict::Infected(signature.to_owned()))
    } else {
        Err(ClamdError::Unexpected(reply.to_owned()))
    }
}

#[async_trait]
impl VirusScanner for ClamdScanner {
    async fn scan(&self, bytes: Vec<u8>) -> Result<ScanVerdict, StoreError> {
        let reply = self
            .exchange(|stream| Box::pin(async move { instream(stream, &bytes).await }))
            .await
            .map_err(StoreError::backend)?;
        verdict(&reply).map_err(StoreError::backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_replies_are_read() {
        assert_eq!(
            "127.0.0.1:3310".parse(),
            Ok(ClamdAddress::Tcp("127.0.0.1:3310".into()))
        );
        assert_eq!(
            "tcp://localhost:3310".parse(),
            Ok(ClamdAddress::Tcp("localhost:3310".into()))
        );
        assert_eq!(
            "unix:/run/clamd.sock".parse(),
            Ok(ClamdAddress::Unix("/run/clamd.sock".into()))
        );
        assert!("nonsense".parse::<ClamdAddress>().is_err());
        assert_eq!(verdict("stream: OK").ok(), Some(ScanVerdict::Clean));
        assert_eq!(
            verdict("stream: Eicar-Test-Signature FOUND").ok(),
            Some(ScanVerdict::Infected("Eicar-Test-Signature".into()))
        );
        assert!(verdict("INSTREAM size limit exceeded. ERROR").is_err());
    }
}
