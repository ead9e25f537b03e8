//! Which attempt of a part is the current one: the attempt whose bytes the store still holds.
//!
//! Each UploadPart of part `p` writes a marker, so a part uploaded twice has two. The store
//! keeps one upstream part `p` (the last one sent) and one staged object for `p` (overwritten
//! by each staging), and both are named in the markers by their store ETag: the current direct
//! attempt is the direct marker with the upstream part's ETag, the current staged attempt the
//! staged marker with the staged object's. When both kinds are still stored (a part sent
//! upstream, then sent again small enough to be staged, or the reverse) the later-written
//! marker wins. ListParts shows the current attempt and Complete accepts only its ETag, as S3
//! does for a part uploaded again.

use super::folder::FolderEntry;
use super::markers::{hex_etag, Marker};
use crate::xml::ListedPart;

/// What the store holds for one part number.
#[derive(Clone, Copy, Debug, Default)]
pub struct Held<'a> {
    /// The upstream part of that number, as the store's ListParts shows it.
    pub upstream: Option<&'a ListedPart>,
    /// The staged object of that number, as the folder listing shows it.
    pub staged: Option<&'a FolderEntry>,
}

/// A part's current attempt, and when the store took its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Current {
    pub marker: Marker,
    /// As the store wrote it, e.g. `2009-10-12T17:50:30.000Z`.
    pub last_modified: String,
}

/// The current attempt among a part's `attempts` (markers whose notes opened), if the store
/// still holds the bytes of any of them.
pub fn current(attempts: &[Marker], held: Held<'_>) -> Option<Current> {
    let direct = held.upstream.and_then(|u| {
        let m = pick(attempts, false, &hex_etag(&u.etag))?;
        Some(Current {
            marker: m.clone(),
            last_modified: u.last_modified.clone(),
        })
    });
    let staged = held.staged.and_then(|s| {
        let m = pick(attempts, true, &s.etag)?;
        Some(Current {
            marker: m.clone(),
            last_modified: s.last_modified.clone(),
        })
    });
    match (direct, staged) {
        (Some(d), Some(s)) => Some(later(d, s)),
        (d, s) => d.or(s),
    }
}

/// The attempt of one kind whose store ETag is `etag`. A store that lists no ETag (an empty
/// `etag`) cannot tell attempts of the same kind apart, so the last written stands for them.
fn pick<'m>(attempts: &'m [Marker], staged: bool, etag: &str) -> Option<&'m Marker> {
    attempts
        .iter()
        .filter(|m| m.staged == staged)
        .filter(|m| etag.is_empty() || m.upstream_etag == etag)
        .max_by_key(|m| m.written_ms)
}

/// The later of a direct and a staged attempt. Markers written before write times were
/// recorded (0) fall back to the store's dates, and a tie goes to the staged attempt, which
/// can only have been the last part.
fn later(direct: Current, staged: Current) -> Current {
    let key = |c: &Current| (c.marker.written_ms, c.last_modified.clone());
    if key(&direct) > key(&staged) {
        direct
    } else {
        staged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(staged: bool, etag: &str, written_ms: u64) -> Marker {
        Marker {
            part: 3,
            staged,
            upstream_etag: etag.into(),
            md5: [written_ms as u8; 16],
            plain_len: 1,
            written_ms,
            name: format!("{etag}-{written_ms}"),
        }
    }

    fn upstream(etag: &str) -> ListedPart {
        ListedPart {
            number: 3,
            etag: format!("\"{etag}\""),
            size: 1,
            last_modified: "2026-01-01T00:00:01.000Z".into(),
        }
    }

    fn staged(etag: &str) -> FolderEntry {
        FolderEntry {
            key: "00003.staged".into(),
            etag: etag.into(),
            last_modified: "2026-01-01T00:00:02.000Z".into(),
        }
    }

    fn held<'a>(upstream: Option<&'a ListedPart>, staged: Option<&'a FolderEntry>) -> Held<'a> {
        Held { upstream, staged }
    }

    #[test]
    fn the_attempt_with_the_stored_etag_is_current() {
        let attempts = [marker(false, "e1", 10), marker(false, "e2", 5)];
        let up = upstream("e1");
        let h = held(Some(&up), None);
        let c = current(&attempts, h).expect("current");
        assert_eq!(c.marker.upstream_etag, "e1");
        assert_eq!(c.last_modified, up.last_modified);
        let gone = upstream("e3");
        let h = held(Some(&gone), None);
        assert_eq!(current(&attempts, h), None);
        assert_eq!(current(&attempts, Held::default()), None);
    }

    #[test]
    fn a_store_without_etags_leaves_the_last_written() {
        let attempts = [marker(false, "e1", 10), marker(false, "e2", 20)];
        let up = upstream("");
        let h = held(Some(&up), None);
        assert_eq!(current(&attempts, h).expect("one").marker.written_ms, 20);
    }

    #[test]
    fn between_kinds_the_later_marker_wins() {
        let (up, st) = (upstream("d"), staged("s"));
        let h = held(Some(&up), Some(&st));
        let newer_direct = [marker(true, "s", 10), marker(false, "d", 20)];
        let c = current(&newer_direct, h).expect("one");
        assert!(!c.marker.staged);
        let newer_staged = [marker(false, "d", 10), marker(true, "s", 20)];
        let c = current(&newer_staged, h).expect("one");
        assert!(c.marker.staged);
        assert_eq!(c.last_modified, st.last_modified);
        // Old markers without times: the store's dates decide.
        let old = [marker(false, "d", 0), marker(true, "s", 0)];
        assert!(current(&old, h).expect("one").marker.staged);
    }
}
