//! Walking a bucket at the store, for the `cloak keys` commands: ListObjectsV2 pages in key
//! order, and HEAD for each object's metadata. It talks to the store directly, with the
//! proxy's upstream client and credentials, so it sees the stored form (the envelope header in
//! `x-amz-meta-cloak`), never plaintext.

use anyhow::{bail, Context, Result};
use cloak_envelope::Header;
use cloak_proxy::body;
use cloak_proxy::ops::headers::ENVELOPE_META;
use cloak_proxy::route::{encode_param, object_path};
use cloak_proxy::upstream::{Upstream, UpstreamRequest};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;

/// The store-side prefix Cloak keeps its own objects under (multipart markers and staged
/// parts); they hold no object data of their own and are never rewrapped or counted.
const RESERVED: &str = ".cloak/";

/// One page of a listing.
pub struct Page {
    pub keys: Vec<String>,
    /// Where the next page starts, if there is one.
    pub next: Option<String>,
}

/// What the store says about one object.
pub enum Probe {
    /// Written by Cloak: its envelope header and the HEAD answer's headers.
    Sealed(Box<Header>, HeaderMap),
    /// No envelope header: not Cloak's.
    Foreign,
    /// Gone between the listing and the HEAD.
    Missing,
}

/// Lists one page of `bucket` under `prefix`, after `start_after` or from `token`.
pub async fn page(
    upstream: &Upstream,
    bucket: &str,
    prefix: &str,
    start_after: Option<&str>,
    token: Option<&str>,
) -> Result<Page> {
    let mut query = format!("list-type=2&prefix={}", encode_param(prefix));
    if let Some(t) = token {
        query.push_str(&format!("&continuation-token={}", encode_param(t)));
    } else if let Some(s) = start_after {
        query.push_str(&format!("&start-after={}", encode_param(s)));
    }
    let path = format!("{}?{query}", object_path(bucket, "").trim_end_matches('/'));
    let resp = upstream.call(request(Method::GET, path)).await?;
    let status = resp.status();
    let xml = resp.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        bail!(
            "the store refused to list {bucket}: {status}: {}",
            String::from_utf8_lossy(&xml)
        );
    }
    let mut page = parse_page(&xml).context("the store's listing could not be read")?;
    page.keys.retain(|k| !k.starts_with(RESERVED));
    Ok(page)
}

/// HEADs `key` and reads its envelope header.
pub async fn probe(upstream: &Upstream, bucket: &str, key: &str) -> Result<Probe> {
    let resp = upstream
        .call(request(Method::HEAD, object_path(bucket, key)))
        .await?;
    match resp.status() {
        StatusCode::NOT_FOUND => return Ok(Probe::Missing),
        s if !s.is_success() => bail!("HEAD {key}: the store answered {s}"),
        _ => {}
    }
    let headers = resp.headers().clone();
    let Some(value) = headers.get(ENVELOPE_META) else {
        return Ok(Probe::Foreign);
    };
    let text = value.to_str().context("the envelope header is not text")?;
    let header = Header::decode(text).map_err(|e| anyhow::anyhow!("envelope header: {e}"))?;
    Ok(Probe::Sealed(Box::new(header), headers))
}

pub fn request(method: Method, path_and_query: String) -> UpstreamRequest {
    UpstreamRequest {
        method,
        path_and_query,
        headers: HeaderMap::new(),
        body: body::empty(),
    }
}

/// Reads keys, `IsTruncated` and `NextContinuationToken` from a ListObjectsV2 answer.
fn parse_page(xml: &[u8]) -> Result<Page, quick_xml::Error> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let (mut keys, mut truncated, mut token) = (Vec::new(), false, None);
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) => path.push(e.local_name().as_ref().to_vec()),
            Event::End(_) => {
                path.pop();
            }
            Event::Text(t) => {
                let text = t.unescape()?.into_owned();
                let names: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
                match names.as_slice() {
                    [_, b"Contents", b"Key"] => keys.push(text),
                    [_, b"IsTruncated"] => truncated = text == "true",
                    [_, b"NextContinuationToken"] => token = Some(text),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let next = if truncated { token } else { None };
    Ok(Page { keys, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_page_gives_keys_and_the_next_token() {
        let xml = br#"<?xml version="1.0"?><ListBucketResult><IsTruncated>true</IsTruncated>
            <Contents><Key>a&amp;b</Key><Size>3</Size></Contents>
            <Contents><Key>c</Key></Contents>
            <NextContinuationToken>tok</NextContinuationToken></ListBucketResult>"#;
        let page = parse_page(xml).expect("parses");
        assert_eq!(page.keys, ["a&b", "c"]);
        assert_eq!(page.next.as_deref(), Some("tok"));

        let last = parse_page(b"<L><IsTruncated>false</IsTruncated></L>").expect("parses");
        assert!(last.keys.is_empty() && last.next.is_none());
    }
}
