//! Cloak's envelope format: how an object is stored encrypted.
//!
//! An object's plaintext is cut into fixed-size *segments* (64 KiB by default). Each segment is
//! stored as a *unit*: a 16-byte cleartext *locator* (part number, index within the part, and a
//! random per-part salt), the AES-256-GCM ciphertext, and a 16-byte tag. Every unit has the same
//! size except the last of a part, so offsets and lengths map between plaintext and ciphertext
//! by arithmetic. A fixed-size sealed *trailer* ends every object and carries its plaintext
//! length and ETag. The per-object *header* (wrapped data key, salt, key commitment) lives in
//! the object's metadata. `docs/FORMAT.md` is the specification; this crate implements it.
//!
//! Layout:
//! - `keys`: derives the content key and the key commitment from a data key.
//! - `header`: the per-object header and its metadata encoding.
//! - `layout`: the offset and length arithmetic, and range planning.
//! - `unit`: the locator and the sealing and opening of one unit.
//! - `seal`: a streaming encryptor for a whole object or one multipart part.
//! - `open`: a streaming decryptor that checks each unit's position before releasing it.
//! - `trailer`: the sealed record at the end of every object.
//! - `error`: `FormatError`.

pub mod error;
pub mod header;
pub mod keys;
pub mod layout;
pub mod open;
pub mod seal;
pub mod trailer;
pub mod unit;

pub use error::FormatError;
pub use header::{Header, KeyRef};
pub use keys::ContentKey;
pub use layout::{Layout, RangePlan};
pub use open::{Expect, Opener, Shape};
pub use seal::Sealer;
pub use trailer::{ObjectKind, PartSummary, Trailer};
pub use unit::Locator;

/// Format version written by this build.
pub const VERSION: u8 = 1;
/// Default segment size: 64 KiB of plaintext per unit.
pub const DEFAULT_SEGMENT_SIZE: u32 = 64 * 1024;
