//! The keyed hash of `#[redact(hash)]`: HMAC-SHA256 under a process-wide key.
//!
//! A plain hash of an email or a phone number can be reversed by hashing
//! every candidate; a keyed hash cannot without the key. Equal values give
//! equal hashes under the same key, so records stay joinable across logs,
//! spans and processes that share the key.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::OnceLock;

type HmacSha256 = Hmac<Sha256>;

/// Shortest key [`set_hash_key`] and `OBS_REDACT_KEY` accept, in bytes.
pub(crate) const MIN_KEY_LEN: usize = 16;
/// Hex digits of the HMAC kept in the output: 64 bits, enough to join
/// records without collisions in practice, short enough to read.
const HEX_DIGITS: usize = 16;

/// Where the hash key in use came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySource {
    /// [`set_hash_key`], or [`crate::Builder::redact_key`].
    Explicit,
    /// The `OBS_REDACT_KEY` environment variable, applied by `init()`.
    Env,
    /// Generated at random for this process: hashes are joinable within the
    /// process only.
    Random,
}

/// Why [`set_hash_key`] refused a key.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashKeyError {
    /// The key is shorter than 16 bytes.
    TooShort {
        /// Its length.
        len: usize,
    },
    /// Another key is already in use (set earlier, or chosen at the first
    /// hash); changing it would make earlier hashes unjoinable.
    AlreadySet {
        /// Where the key in use came from.
        source: KeySource,
    },
}

impl fmt::Display for HashKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashKeyError::TooShort { len } => {
                write!(f, "the redaction hash key has {len} bytes; use at least {MIN_KEY_LEN} random bytes")
            }
            HashKeyError::AlreadySet { source } => write!(
                f,
                "a different redaction hash key is already in use ({source:?}); set the key once, before the first value is hashed"
            ),
        }
    }
}

impl std::error::Error for HashKeyError {}

struct Key {
    mac: HmacSha256,
    fingerprint: [u8; 32],
    source: KeySource,
}

static KEY: OnceLock<Key> = OnceLock::new();

/// HMAC pads a key shorter than the block (64 bytes) with zeros and hashes a
/// longer one first (RFC 2104); doing that here makes keying infallible.
fn make(key: &[u8], source: KeySource) -> Key {
    let mut block = [0u8; 64];
    if key.len() <= block.len() {
        block[..key.len()].copy_from_slice(key);
    } else {
        block[..32].copy_from_slice(&Sha256::digest(key));
    }
    let mac = <HmacSha256 as KeyInit>::new(&block.into());
    let mut fp = mac.clone();
    fp.update(b"obs redaction key fingerprint");
    Key { mac, fingerprint: fp.finalize().into_bytes().into(), source }
}

fn random_key() -> Key {
    let mut bytes = [0u8; 32];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: fall back on std's per-process random hasher keys.
        use std::hash::{BuildHasher, Hasher};
        let state = std::collections::hash_map::RandomState::new();
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let mut h = state.build_hasher();
            h.write_usize(i);
            h.write_u128(
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()),
            );
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    make(&bytes, KeySource::Random)
}

/// The key in use, chosen at random at the first hash when none was set.
/// `OBS_REDACT_KEY` is not read here: `init()` reads and validates it with
/// the rest of the configuration (a short key is an `InitError`, not a line
/// on stderr), then installs it like [`set_hash_key`].
fn key_in_use() -> &'static Key {
    KEY.get_or_init(random_key)
}

/// Whether `key` can become the key in use: long enough, and either no key
/// is chosen yet or it is this one. `init()` checks before it changes
/// anything, so that a conflict fails it without side effects.
pub(crate) fn check_key(key: &[u8]) -> Result<(), HashKeyError> {
    if key.len() < MIN_KEY_LEN {
        return Err(HashKeyError::TooShort { len: key.len() });
    }
    match KEY.get() {
        Some(current) if current.fingerprint != make(key, current.source).fingerprint => {
            Err(HashKeyError::AlreadySet { source: current.source })
        }
        _ => Ok(()),
    }
}

/// Sets the key of [`keyed_hash`] (and so of `#[redact(hash)]`). Call it at
/// start-up, before the first value is hashed; at least 16 bytes, kept
/// secret and shared by every process whose hashes must join.
///
/// `init()` does the same with `OBS_REDACT_KEY` (its UTF-8 bytes) or
/// [`crate::Builder::redact_key`]; without any of them, a random key is
/// generated at the first hash, so hashes join within one process only.
/// Setting the key that is already in use again is accepted.
///
/// ```
/// use obs_runtime::redact::{keyed_hash, set_hash_key};
/// set_hash_key(b"0123456789abcdef0123456789abcdef").unwrap();
/// assert_eq!(keyed_hash("alice@example.com"), keyed_hash("alice@example.com"));
/// assert!(keyed_hash("alice@example.com").starts_with("h:"));
/// ```
pub fn set_hash_key(key: &[u8]) -> Result<(), HashKeyError> {
    install_key(key, KeySource::Explicit)
}

/// Makes `key` the key in use, recording where it came from.
pub(crate) fn install_key(key: &[u8], source: KeySource) -> Result<(), HashKeyError> {
    if key.len() < MIN_KEY_LEN {
        return Err(HashKeyError::TooShort { len: key.len() });
    }
    let new = make(key, source);
    let fingerprint = new.fingerprint;
    if KEY.set(new).is_ok() {
        return Ok(());
    }
    let current = key_in_use();
    if current.fingerprint == fingerprint {
        Ok(())
    } else {
        Err(HashKeyError::AlreadySet { source: current.source })
    }
}

/// Where the key in use comes from (choosing it now if no value was hashed
/// yet), so that start-up can report a random key, whose hashes do not join
/// across processes.
pub fn hash_key_source() -> KeySource {
    key_in_use().source
}

/// `h:` followed by the first 16 hex digits of HMAC-SHA256(key, `text`).
///
/// ```
/// let h = obs_runtime::redact::keyed_hash("+1 555 0100");
/// assert_eq!(h.len(), 18);
/// assert_ne!(h, obs_runtime::redact::keyed_hash("+1 555 0101"));
/// ```
pub fn keyed_hash(text: &str) -> String {
    let mut mac = key_in_use().mac.clone();
    mac.update(text.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(2 + HEX_DIGITS);
    out.push_str("h:");
    for b in digest.iter().take(HEX_DIGITS / 2) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
    out
}
