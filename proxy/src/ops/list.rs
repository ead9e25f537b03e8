//! Listings: the store's XML, with every size and ETag rewritten to plaintext terms, and the
//! proxy's reserved `.cloak/` objects left out.
//!
//! Sizes come from arithmetic on the stored size. ETags need the object's sealed trailer: they
//! come from the facts cache (filled by every PUT, HEAD and GET on this replica), or else from
//! one small ranged read per object, run `objects.list_concurrency` at a time. With
//! `objects.plaintext_list_etags = false` no read is made and the store's ETags are shown.

use std::sync::Arc;

use async_trait::async_trait;
use cloak_envelope::layout::Layout;
use cloak_envelope::trailer::TRAILER_LEN;
use http::Response;

use super::forward::relay;
use super::probe::{probe_object, Probed};
use super::Call;
use crate::body::{self, ProxyBody};
use crate::error::S3Error;
use crate::state::{App, ObjectFacts};
use crate::upstream::UpstreamRequest;
use crate::xml::{
    EntryFacts, EntryKind, EntryRewriter, EntryView, KeyEncoding, ListingConfig, ListingRewriter,
    RewriteError, Verdict,
};

/// The bucket prefix where Cloak keeps multipart markers and staged parts.
pub const RESERVED_PREFIX: &str = ".cloak/";

pub async fn list(call: Call) -> Result<Response<ProxyBody>, S3Error> {
    let req = UpstreamRequest {
        method: http::Method::GET,
        path_and_query: call.target.upstream_path_and_query(),
        headers: super::headers::forwarded_request_headers(&call.parts.headers),
        body: body::empty(),
    };
    let upstream = call.app.upstream.call(req).await?;
    if !upstream.status().is_success() {
        return Ok(relay(upstream));
    }
    let (parts, incoming) = upstream.into_parts();
    let entries = Arc::new(PlaintextEntries {
        app: call.app.clone(),
        bucket: call.bucket().to_owned(),
    });
    let config = ListingConfig {
        concurrency: call.app.list_concurrency,
        key_encoding: if call.target.param("encoding-type") == Some("url") {
            KeyEncoding::Url
        } else {
            KeyEncoding::None
        },
        ..ListingConfig::default()
    };
    let rewritten = ListingRewriter::from_body(incoming, entries, config).into_body();
    let mut resp = Response::new(body::boxed(rewritten));
    *resp.status_mut() = parts.status;
    let mut h = parts.headers;
    h.remove("content-length");
    super::headers::forwarded_response_headers(&h, resp.headers_mut());
    Ok(resp)
}

/// Rewrites listed objects to plaintext sizes and ETags.
struct PlaintextEntries {
    app: Arc<App>,
    bucket: String,
}

#[async_trait]
impl EntryRewriter for PlaintextEntries {
    async fn rewrite(&self, entry: &EntryFacts) -> Result<Verdict, RewriteError> {
        if entry.key.starts_with(RESERVED_PREFIX) {
            return Ok(Verdict::Skip);
        }
        // A stored part is units without the object's trailer; the arithmetic is the same
        // once the trailer is counted in.
        let stored = match entry.kind {
            EntryKind::Part => entry.size.saturating_add(TRAILER_LEN),
            _ => entry.size,
        };
        let plain = Layout::new(self.app.keys.segment_size())
            .plaintext_len(stored)
            .ok();
        if entry.kind == EntryKind::Part || !self.app.plaintext_list_etags {
            return Ok(Verdict::Show(match plain {
                Some(size) => EntryView {
                    size,
                    etag: None,
                    drop_checksums: true,
                },
                None => EntryView::unchanged(entry),
            }));
        }
        if let Some(f) = self.app.recall(&self.bucket, &entry.key, &entry.etag).await {
            return Ok(Verdict::Show(EntryView::plaintext(f.plain_len, f.etag)));
        }
        match self.look(entry).await {
            Ok(Some(f)) => Ok(Verdict::Show(EntryView::plaintext(f.plain_len, f.etag))),
            Ok(None) => Ok(Verdict::Show(EntryView::unchanged(entry))),
            Err(e) => Err(RewriteError::new(entry.key.clone(), e)),
        }
    }
}

impl PlaintextEntries {
    /// Reads one object's trailer; `None` for a foreign object.
    async fn look(&self, entry: &EntryFacts) -> Result<Option<ObjectFacts>, S3Error> {
        let mut path = crate::route::object_path(&self.bucket, &entry.key);
        if let Some(v) = &entry.version_id {
            path.push_str(&format!("?versionId={}", crate::route::encode_param(v)));
        }
        match probe_object(&self.app, &self.bucket, &entry.key, &path, 96).await? {
            Probed::Sealed(sealed, _) => {
                let facts = sealed.facts();
                self.app
                    .remember(&self.bucket, &entry.key, &entry.etag, facts.clone())
                    .await;
                Ok(Some(facts))
            }
            Probed::Foreign(_) => Ok(None),
            Probed::Failed(resp) => Err(S3Error::upstream(format!(
                "The store answered {} while reading a listed object's trailer",
                resp.status()
            ))),
        }
    }
}
