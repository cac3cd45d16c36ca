//! Password hashing with bounded concurrency and bounded memory.
//!
//! An argon2id hash (OWASP parameters, the crate's defaults) fills a 19 MiB block of memory. Run
//! on actix's blocking pool (hundreds of threads) a login storm ran hundreds at once: 100
//! concurrent wrong-password logins took a server from 160 MB to 3 GB, and glibc kept 2.3 GB of
//! it afterwards (and kept growing under sequential logins), because each thread's arena keeps
//! the blocks it freed. So hashing runs on a fixed number of threads started here, each reusing
//! one memory block of its own for every hash it computes (nothing is allocated or freed per
//! hash), and requests wait for them in a bounded queue; when that is full they are refused at
//! once ([`HashingError::Busy`], answered 503 with `Retry-After`) instead of piling up.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use crate::auth::Secret;

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    /// Every hashing thread is busy and the queue is full; try again shortly.
    #[error("password hashing is saturated")]
    Busy,
    /// The hashing threads are gone (the server is stopping, or one panicked).
    #[error("password hashing is not running")]
    Stopped,
    /// Hashing failed.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// The hashing threads and their queue. Cloning shares them.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    jobs: SyncSender<Job>,
}

#[derive(Debug)]
enum Job {
    Hash {
        password: Secret,
        reply: oneshot::Sender<Result<String, HashingError>>,
    },
    Verify {
        password: Secret,
        hash: String,
        reply: oneshot::Sender<bool>,
    },
}

impl PasswordHasher {
    /// Starts `threads` hashing threads (at least one) behind a queue of `queue` waiting jobs.
    ///
    /// # Errors
    /// The I/O error when a thread cannot be started.
    pub fn start(threads: usize, queue: usize) -> std::io::Result<Self> {
        let (jobs, waiting) = mpsc::sync_channel(queue);
        let waiting = Arc::new(Mutex::new(waiting));
        for n in 0..threads.max(1) {
            let waiting = Arc::clone(&waiting);
            std::thread::Builder::new()
                .name(format!("password-hash-{n}"))
                .spawn(move || work(&waiting))?;
        }
        Ok(Self { jobs })
    }

    /// Hashes a new password (argon2id, default parameters, a random salt) into a PHC string.
    ///
    /// # Errors
    /// [`HashingError`]: busy, stopped, or a failure of the hash itself.
    pub async fn hash(&self, password: Secret) -> Result<String, HashingError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash { password, reply })?;
        answer.await.map_err(|_| HashingError::Stopped)?
    }

    /// Whether `password` matches a stored PHC hash (a hash that cannot be read matches nothing).
    ///
    /// # Errors
    /// [`HashingError::Busy`] or [`HashingError::Stopped`].
    pub async fn verify(&self, password: Secret, hash: String) -> Result<bool, HashingError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify {
            password,
            hash,
            reply,
        })?;
        answer.await.map_err(|_| HashingError::Stopped)
    }

    fn submit(&self, job: Job) -> Result<(), HashingError> {
        self.jobs.try_send(job).map_err(|err| match err {
            TrySendError::Full(_) => HashingError::Busy,
            TrySendError::Disconnected(_) => HashingError::Stopped,
        })
    }
}

/// One hashing thread: takes jobs until every [`PasswordHasher`] is dropped.
fn work(waiting: &Mutex<Receiver<Job>>) {
    let mut memory = Memory::default();
    loop {
        // The lock is held only while waiting for the next job, never while hashing.
        let job = waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        let Ok(job) = job else { return };
        // A caller that went away (the client hung up) costs no hash.
        match job {
            Job::Hash { password, reply } => {
                if !reply.is_closed() {
                    let _ = reply.send(hash(&mut memory, password.expose().as_bytes()));
                }
            }
            Job::Verify {
                password,
                hash,
                reply,
            } => {
                if !reply.is_closed() {
                    let _ = reply.send(verify(&mut memory, password.expose().as_bytes(), &hash));
                }
            }
        }
    }
}

/// A hashing thread's argon2 memory, allocated once at the default size and reused.
#[derive(Default)]
struct Memory(Vec<Block>);

impl Memory {
    /// `blocks` blocks of memory: this thread's own when they fit (the default parameters), a
    /// temporary allocation for a stored hash made with larger ones.
    fn with<T>(&mut self, blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
        let default = Params::default().block_count();
        if blocks > default {
            return f(&mut vec![Block::default(); blocks]);
        }
        if self.0.len() < default {
            self.0 = vec![Block::default(); default];
        }
        f(&mut self.0[..blocks])
    }
}

/// Hashes with the default parameters into `memory`.
fn hash(memory: &mut Memory, password: &[u8]) -> Result<String, HashingError> {
    let failed = |e: &dyn std::fmt::Display| HashingError::Failed(e.to_string());
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt = [0u8; Salt::RECOMMENDED_LENGTH];
    getrandom::fill(&mut salt).map_err(|e| failed(&e))?;
    let mut out = vec![0u8; Params::DEFAULT_OUTPUT_LEN];
    memory
        .with(params.block_count(), |blocks| {
            argon2.hash_password_into_with_memory(password, &salt, &mut out, blocks)
        })
        .map_err(|e| failed(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| failed(&e))?),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(phc.to_string())
}

/// Checks `password` against a PHC string with the parameters it names, into `memory`.
fn verify(memory: &mut Memory, password: &[u8], stored: &str) -> bool {
    let Ok(phc) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(phc.algorithm.as_str()),
        Params::try_from(&phc),
    ) else {
        return false;
    };
    let Ok(version) = phc
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    let computed = memory.with(params.block_count(), |blocks| {
        argon2.hash_password_into_with_memory(password, salt.as_ref(), &mut out, blocks)
    });
    // `Output`'s equality is constant-time.
    computed.is_ok() && Output::new(&out).is_ok_and(|out| out == *expected)
}

#[cfg(test)]
mod tests;
