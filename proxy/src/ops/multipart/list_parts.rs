//! ListParts in plaintext terms: every part the client uploaded, sent upstream or staged, once,
//! with the ETag UploadPart gave it (its plaintext MD5), its plaintext size, and the store's
//! date for its bytes; paged by `max-parts` and `part-number-marker` over that merged list.
//!
//! The answer is written from the markers, which need the upload's data key, so it takes the
//! upload id Cloak issued. A raw upstream id (as ListMultipartUploads shows) carries no key:
//! its listing is the store's, relayed with plaintext sizes of the parts sent upstream, the
//! store's ETags, and no staged part.

use http::Response;

use super::create::xml_response;
use super::current::Current;
use super::markers;
use super::part::enc;
use super::upload_id::UploadId;
use super::walk::{PartWalk, Upload};
use crate::body::ProxyBody;
use crate::error::S3Error;
use crate::ops::Call;
use crate::xml::{ListedPart, PartsListing};

/// S3's largest, and default, page of parts.
const MAX_PARTS: u32 = 1000;

pub async fn list_parts(call: Call) -> Result<Response<ProxyBody>, S3Error> {
    let raw_id = call.target.param("uploadId").unwrap_or_default().to_owned();
    if !UploadId::is_cloaks(&raw_id) {
        return store_listing(call, &raw_id).await;
    }
    let id = UploadId::decode(&raw_id)?;
    let max_parts = number_param(&call, "max-parts")?.map_or(MAX_PARTS, |n| n.min(MAX_PARTS));
    let after = number_param(&call, "part-number-marker")?.unwrap_or(0);
    let (bucket, key) = (call.bucket(), call.key());
    let content = call.app.keys.open(&id.header, bucket, key).await?;
    let folder = markers::folder(&id.upstream);
    let upload = Upload {
        object_path: &call.target.upstream_path,
        upstream_id: &id.upstream,
    };
    let walk = PartWalk::start(&call.app, bucket, upload, &folder, &content, after).await?;
    let mut walk = match walk {
        Ok(walk) => walk,
        Err(refused) => return Ok(refused),
    };

    let mut parts = Vec::new();
    while parts.len() < max_parts as usize {
        match walk.next().await? {
            Some(found) => parts.push(listed(found)),
            None => break,
        }
    }
    // A page is truncated only when another part really follows, so the last page is never
    // an empty one.
    let truncated = parts.len() == max_parts as usize && walk.next().await?.is_some();

    let url_encoded = call.target.param("encoding-type") == Some("url");
    let shown_key = if url_encoded {
        enc(key)
    } else {
        key.to_owned()
    };
    let listing = PartsListing {
        bucket,
        key: &shown_key,
        url_encoded,
        upload_id: &raw_id,
        marker: after,
        max_parts,
        parts: &parts,
        truncated,
        storage_class: walk.storage_class(),
    };
    Ok(xml_response(listing.to_xml()))
}

/// The part as the client uploaded it.
fn listed(found: Current) -> ListedPart {
    ListedPart {
        number: found.marker.part,
        etag: format!("\"{}\"", hex::encode(found.marker.md5)),
        size: found.marker.plain_len,
        last_modified: found.last_modified,
    }
}

/// A non-negative integer parameter, as S3 requires of `max-parts` and `part-number-marker`.
fn number_param(call: &Call, name: &str) -> Result<Option<u32>, S3Error> {
    let Some(raw) = call.target.param(name) else {
        return Ok(None);
    };
    let parsed = raw.parse::<u32>().ok();
    let n = parsed.ok_or_else(|| {
        S3Error::bad_request(
            "InvalidArgument",
            format!("{name} must be a non-negative integer"),
        )
    })?;
    Ok(Some(n))
}

/// The store's own listing, for an upstream upload id (see the module docs).
async fn store_listing(call: Call, upstream_id: &str) -> Result<Response<ProxyBody>, S3Error> {
    let mut query: Vec<String> = call
        .target
        .raw_query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("uploadId="))
        .map(str::to_owned)
        .collect();
    query.push(format!("uploadId={}", enc(upstream_id)));
    let mut rewritten = call;
    rewritten.target.raw_query = Some(query.join("&"));
    super::super::list::list(rewritten).await
}
