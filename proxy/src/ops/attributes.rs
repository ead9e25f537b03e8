//! GetObjectAttributes (`GET /key?attributes`), answered from the object's sealed trailer.
//!
//! - ETag and ObjectSize are the plaintext's.
//! - StorageClass is the store's (S3 omits the header for STANDARD; the attribute never is).
//! - ObjectParts, for a multipart object only, as S3: the part count, and a page of plaintext
//!   part sizes selected by `x-amz-part-number-marker` and `x-amz-max-parts`. For an object
//!   whose parts differ in size the trailer records no boundaries; they are found from unit
//!   locators (`boundaries`) unless that would read too much, and then only the count is
//!   given.
//! - Checksum is never given: Cloak does not record plaintext checksums, and the store's
//!   describe ciphertext.

use http::Response;

use super::boundaries::first_parts;
use super::headers;
use super::multipart::create::xml_response;
use super::parts::{page_of, PartSpan, Parts};
use super::probe::{probe, probe_path, Probed};
use super::read::ReadFrom;
use super::Call;
use crate::body::ProxyBody;
use crate::error::S3Error;
use crate::xml::{AttributeParts, ObjectAttributes};

/// The probe reads the trailer only.
const TRAILER_PROBE: u64 = 96;
/// S3's default and largest page of parts.
const MAX_PARTS: u32 = 1000;

/// Which attributes the client asked for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Asked {
    etag: bool,
    checksum: bool,
    parts: bool,
    storage_class: bool,
    size: bool,
}

pub async fn get_object_attributes(call: Call) -> Result<Response<ProxyBody>, S3Error> {
    let asked = asked(&call.parts.headers)?;
    let marker = number_header(&call, "x-amz-part-number-marker", 0)?;
    let max = number_header(&call, "x-amz-max-parts", MAX_PARTS)?.min(MAX_PARTS);
    let (sealed, up) = match probe(&call, TRAILER_PROBE).await? {
        Probed::Sealed(s, h) => (s, h),
        Probed::Failed(resp) => return Ok(super::forward::relay(resp)),
        Probed::Foreign(_) => return super::read::foreign(call).await,
    };
    let facts = sealed.facts();
    let parts = Parts::of(&sealed.trailer);
    if asked.checksum {
        tracing::debug!("a Checksum attribute was asked for; Cloak records none to give");
    }
    let shown_parts = if asked.parts && parts.multipart() {
        let from = ReadFrom {
            app: &call.app,
            path_and_query: probe_path(&call),
            label: call.target.resource(),
            inspect: None,
        };
        let pin = headers::get(&up, "etag");
        let spans = first_parts(&from, &sealed, pin, parts.count()).await?;
        Some(page(&parts, spans.as_deref(), marker, max))
    } else {
        None
    };
    let attrs = ObjectAttributes {
        etag: asked.etag.then(|| facts.etag.trim_matches('"').to_owned()),
        parts: shown_parts,
        storage_class: asked.storage_class.then(|| {
            headers::get(&up, "x-amz-storage-class")
                .unwrap_or("STANDARD")
                .to_owned()
        }),
        object_size: asked.size.then_some(facts.plain_len),
    };
    let mut resp = xml_response(attrs.to_xml());
    for name in ["last-modified", "x-amz-version-id", "x-amz-delete-marker"] {
        if let Some(v) = up.get(name) {
            resp.headers_mut().insert(name, v.clone());
        }
    }
    Ok(resp)
}

/// A page of `spans`; with no spans (boundaries too costly to find), the count alone.
fn page(parts: &Parts, spans: Option<&[PartSpan]>, marker: u32, max: u32) -> AttributeParts {
    let (spans, truncated) = page_of(spans.unwrap_or_default(), marker, max);
    AttributeParts {
        parts_count: parts.count(),
        part_number_marker: marker,
        next_part_number_marker: spans.last().map(|p| p.number),
        max_parts: max,
        is_truncated: truncated,
        parts: spans.iter().map(|p| (p.number, p.len)).collect(),
    }
}

/// Reads `x-amz-object-attributes` (one header or several, comma-separated).
fn asked(h: &http::HeaderMap) -> Result<Asked, S3Error> {
    let mut asked = Asked::default();
    let names = h
        .get_all("x-amz-object-attributes")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty());
    for name in names {
        match name {
            "ETag" => asked.etag = true,
            "Checksum" => asked.checksum = true,
            "ObjectParts" => asked.parts = true,
            "StorageClass" => asked.storage_class = true,
            "ObjectSize" => asked.size = true,
            _ => {
                return Err(S3Error::bad_request(
                    "InvalidArgument",
                    format!("Invalid attribute name specified: {name}"),
                ))
            }
        }
    }
    if asked == Asked::default() {
        return Err(S3Error::bad_request(
            "InvalidArgument",
            "The x-amz-object-attributes header specifying the attributes to be retrieved is \
             either missing or empty",
        ));
    }
    Ok(asked)
}

fn number_header(call: &Call, name: &str, default: u32) -> Result<u32, S3Error> {
    match headers::get(&call.parts.headers, name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| {
            S3Error::bad_request("InvalidArgument", format!("{name} must be an integer"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(values: &[&'static str]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for v in values {
            h.append("x-amz-object-attributes", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn attribute_names_come_comma_separated_or_repeated() {
        let a = asked(&header(&["ETag, ObjectSize", "ObjectParts"])).unwrap();
        assert!(a.etag && a.size && a.parts && !a.checksum && !a.storage_class);
        assert_eq!(asked(&header(&[])).unwrap_err().code, "InvalidArgument");
        assert_eq!(
            asked(&header(&["Colour"])).unwrap_err().code,
            "InvalidArgument"
        );
    }
}
