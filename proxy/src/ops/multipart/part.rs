//! UploadPart: seal one part under the upload's data key and record its marker.
//!
//! A part that can only be the last one (under 5 MiB, not a whole number of segments, or part
//! 10,000) is staged as an object, because Complete must append the trailer after it.

use cloak_envelope::layout::Layout;
use cloak_envelope::Sealer;
use http::{HeaderMap, Response};

use super::super::encrypt_body::{EncryptingBody, Ending};
use super::super::headers;
use super::super::put::{client_fault_first, settle};
use super::super::Call;
use super::markers::{self, Marker};
use super::upload_id::UploadId;
use super::{MAX_PART, MAX_PART_NUMBER, MIN_PART};
use crate::body::{self, ProxyBody};
use crate::checksum::{BodyDigests, Digests, Expectations};
use crate::error::S3Error;
use crate::hooks::PlaintextInspector;
use crate::upstream::UpstreamRequest;

pub async fn upload_part(mut call: Call) -> Result<Response<ProxyBody>, S3Error> {
    let id = UploadId::decode(call.target.param("uploadId").unwrap_or_default())?;
    let part = part_number(&call)?;
    let expect = Expectations::from_request(&call.parts.headers, &call.verified.payload)?;
    let (plaintext, len) = call.sized_plaintext_body()?;
    let inspector = call.app.hooks.inspector.start(&call.ctx);
    let digests = BodyDigests::new(expect);
    let digests = match store_part(&call, &id, part, plaintext, len, digests, inspector).await? {
        Stored::Sealed(d) => d,
        Stored::Refused(resp) => return Ok(resp),
    };

    let mut resp = Response::new(body::empty());
    headers::set(resp.headers_mut(), "etag", &digests.etag());
    if let Some((alg, value)) = &digests.checksum {
        headers::set(resp.headers_mut(), alg.header_name(), value);
    }
    Ok(resp)
}

/// What became of a part sent upstream.
pub enum Stored {
    /// Stored and recorded; the digests of its plaintext.
    Sealed(Digests),
    /// The store refused it: its answer, to relay.
    Refused(Response<ProxyBody>),
}

/// Seals `len` bytes of `plaintext` as part `part` of the upload under the upload's data key,
/// with a fresh salt, sends it to the store (as an upstream part, or staged when it can only
/// be the last part) and writes its marker. The request's target is the upload's object.
pub async fn store_part(
    call: &Call,
    id: &UploadId,
    part: u32,
    plaintext: ProxyBody,
    len: u64,
    digests: BodyDigests,
    inspector: Option<Box<dyn PlaintextInspector>>,
) -> Result<Stored, S3Error> {
    let layout = Layout::new(id.header.segment_size);
    check_part_len(&layout, len)?;
    let (bucket, key) = (call.bucket().to_owned(), call.key().to_owned());
    let content = call.app.keys.open(&id.header, &bucket, &key).await?;
    let staged =
        len < MIN_PART || part == MAX_PART_NUMBER || !len.is_multiple_of(layout.segment_size());

    let sealer = Sealer::new(content.clone(), layout, part, len);
    let (sealed, outcome) = EncryptingBody::new(
        plaintext,
        content.clone(),
        sealer,
        digests,
        inspector,
        Ending::PartOnly,
    );
    let folder = markers::folder(&id.upstream);
    let path_and_query = if staged {
        markers::path(&bucket, &markers::staged_key(&folder, part))
    } else {
        format!(
            "{}?partNumber={part}&uploadId={}",
            call.target.upstream_path,
            enc(&id.upstream)
        )
    };
    let mut h = HeaderMap::new();
    h.insert("content-length", layout.stored_part_len(len).into());
    let req = UpstreamRequest {
        method: http::Method::PUT,
        path_and_query,
        headers: h,
        body: body::boxed(sealed),
    };
    let upstream = call
        .app
        .upstream
        .call(req)
        .await
        .map_err(|e| client_fault_first(&outcome, e))?;
    if !upstream.status().is_success() {
        return Ok(Stored::Refused(super::super::forward::relay(upstream)));
    }
    let digests = settle(&outcome)?;
    let upstream_etag = markers::bytes_etag(upstream.headers())
        .ok_or_else(|| S3Error::upstream("The store's part answer has no ETag"))?;
    let marker = Marker {
        part,
        staged,
        upstream_etag,
        md5: digests.md5,
        plain_len: len,
        written_ms: now_ms(),
        name: String::new(),
    };
    markers::write(&call.app, &bucket, &folder, &content, &marker).await?;
    Ok(Stored::Sealed(digests))
}

/// S3 refuses parts over 5 GiB; Cloak's stored part is larger than the client's by 32 bytes
/// per segment, so the store would refuse a part a little under 5 GiB too. Both are refused
/// before any byte moves, saying why.
fn check_part_len(layout: &Layout, len: u64) -> Result<(), S3Error> {
    if len > MAX_PART {
        return Err(S3Error::bad_request(
            "EntityTooLarge",
            "A part may be at most 5 GiB",
        ));
    }
    if layout.stored_part_len(len) > MAX_PART {
        return Err(S3Error::bad_request(
            "EntityTooLarge",
            format!(
                "Cloak stores a part with 32 bytes per {}-byte segment added, and S3 refuses \
                 stored parts over 5 GiB: the largest part Cloak accepts is {} bytes",
                layout.segment_size(),
                largest_part(layout)
            ),
        ));
    }
    Ok(())
}

/// The largest plaintext part whose stored form fits S3's 5 GiB part limit.
fn largest_part(layout: &Layout) -> u64 {
    let full_units = MAX_PART / layout.unit_len();
    let rest = MAX_PART - full_units * layout.unit_len();
    full_units * layout.segment_size()
        + rest.saturating_sub(layout.unit_len() - layout.segment_size())
}

/// The proxy's clock, for ordering a part's attempts (see [`Marker::written_ms`]).
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub fn part_number(call: &Call) -> Result<u32, S3Error> {
    parse_part_number(call.target.param("partNumber").unwrap_or_default())
}

/// A `partNumber` value: an integer in 1..=10000.
pub fn parse_part_number(raw: &str) -> Result<u32, S3Error> {
    raw.parse::<u32>()
        .ok()
        .filter(|p| (1..=MAX_PART_NUMBER).contains(p))
        .ok_or_else(invalid_part_number)
}

fn invalid_part_number() -> S3Error {
    S3Error::bad_request(
        "InvalidArgument",
        "Part number must be an integer between 1 and 10000, inclusive",
    )
}

pub fn enc(s: &str) -> String {
    crate::route::encode_param(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_part_is_the_largest_that_fits_5_gib_stored() {
        let layout = Layout::new(64 * 1024);
        let largest = largest_part(&layout);
        assert!(layout.stored_part_len(largest) <= MAX_PART);
        assert!(layout.stored_part_len(largest + 1) > MAX_PART);
        assert!(check_part_len(&layout, largest).is_ok());
        assert_eq!(
            check_part_len(&layout, largest + 1).unwrap_err().code,
            "EntityTooLarge"
        );
        assert!(check_part_len(&layout, 0).is_ok());
    }
}
