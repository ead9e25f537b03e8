//! ListParts for the embedded store. `FileSystem` lists every part file it finds, in directory
//! order, with no ETag, no paging, and for any upload id, even one completed or aborted. S3
//! lists parts in number order with their ETags, a page of `max-parts` after
//! `part-number-marker`, and answers NoSuchUpload for an upload it does not have; the proxy's
//! ListParts and Complete rely on all of that.

use std::path::Path;

use md5::{Digest as _, Md5};
use s3s::dto::{self, ETag};
use s3s::{s3_error, S3Request, S3Response, S3Result, S3};
use s3s_fs::FileSystem;

/// S3's largest page of parts, and its default.
const MAX_PARTS: i32 = 1000;

/// Lists one page of an upload's parts, as S3 would (see the module docs).
pub(super) async fn list(
    fs: &FileSystem,
    root: &Path,
    req: S3Request<dto::ListPartsInput>,
) -> S3Result<S3Response<dto::ListPartsOutput>> {
    let upload = req.input.upload_id.clone();
    // `FileSystem` keeps an upload's record as `.upload-<id>.json` until it ends.
    let known = uuid_like(&upload) && root.join(format!(".upload-{upload}.json")).is_file();
    if !known {
        return Err(s3_error!(NoSuchUpload));
    }
    let after = req.input.part_number_marker.unwrap_or(0);
    let max = req.input.max_parts.unwrap_or(MAX_PARTS).clamp(0, MAX_PARTS);
    let mut resp = fs.list_parts(req).await?;
    let out = &mut resp.output;
    let mut parts = out.parts.take().unwrap_or_default();
    parts.retain(|p| p.part_number.is_some_and(|n| n > after));
    parts.sort_by_key(|p| p.part_number);
    let truncated = parts.len() > max as usize;
    parts.truncate(max as usize);
    for p in &mut parts {
        let number = p.part_number.unwrap_or_default();
        let path = root.join(format!(".upload_id-{upload}.part-{number}"));
        p.e_tag = md5_of(&path).await.map(ETag::Strong);
    }
    out.part_number_marker = Some(after);
    out.next_part_number_marker = parts.last().and_then(|p| p.part_number);
    out.max_parts = Some(max);
    out.is_truncated = Some(truncated);
    out.parts = Some(parts);
    Ok(resp)
}

/// Hex MD5 of a part file; `None` when it went away since the listing.
async fn md5_of(path: &Path) -> Option<String> {
    let bytes = tokio::fs::read(path).await.ok()?;
    Some(hex::encode(Md5::digest(&bytes)))
}

/// Upload ids are UUIDs; anything else must not become part of a path.
fn uuid_like(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}
