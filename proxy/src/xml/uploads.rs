//! ListMultipartUploads passed through with its upload ids replaced, and uploads hidden where
//! the caller says so.
//!
//! Upload ids appear in each `<Upload>` and in the `<UploadIdMarker>` and
//! `<NextUploadIdMarker>` the client sends back to page on, so all three are offered to the
//! callback. The page is small (at most 1,000 uploads), so it is rewritten whole; every byte
//! not replaced is copied as the upstream sent it.

use bytes::Bytes;

use super::error::UpstreamXmlError;
use super::text::{decode_key, escape};
use super::token::{self, Token};
use super::tree::{self, Child};
use super::KeyEncoding;

/// Where an upload id appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadIdPlace {
    /// `<Upload><UploadId>`.
    Upload,
    /// `<UploadIdMarker>`, paired with `<KeyMarker>`.
    Marker,
    /// `<NextUploadIdMarker>`, paired with `<NextKeyMarker>`.
    NextMarker,
}

/// One upload id in the listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadIdRef<'a> {
    pub place: UploadIdPlace,
    /// The upload's key (or the paired key marker), XML-unescaped and URL-decoded when the
    /// listing is URL-encoded.
    pub key: &'a str,
    /// The upstream's upload id.
    pub upload_id: &'a str,
}

/// What to do with an upload id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadIdVerdict {
    /// Leave it as the upstream wrote it.
    Keep,
    /// Show this id instead.
    Replace(String),
    /// Leave the whole `<Upload>` out. For a marker this is the same as `Keep`.
    Skip,
}

/// Rewrites a `ListMultipartUploadsResult`, asking `decide` about each upload id; `encoding`
/// is the `encoding-type` the client asked for.
pub fn rewrite_upload_listing<F>(
    doc: &[u8],
    encoding: KeyEncoding,
    mut decide: F,
) -> Result<Bytes, UpstreamXmlError>
where
    F: FnMut(&UploadIdRef<'_>) -> UploadIdVerdict,
{
    let raw = Bytes::copy_from_slice(doc);
    let tokens = token::all(&raw)?;
    let root = tree::root(&raw, &tokens)?;
    let root_name = tree::local_name(&raw, &tokens[root.start]);
    if root_name != "ListMultipartUploadsResult" {
        return Err(UpstreamXmlError::UnexpectedRoot {
            found: root_name,
            expected: "ListMultipartUploadsResult",
        });
    }
    let inner = tokens.get(root.start + 1..root.end - 1).unwrap_or(&[]);
    let children = tree::children(&raw, inner);
    let listing = Listing {
        raw: &raw,
        inner,
        encoding,
    };
    let edits = listing.edits(&children, &mut decide)?;
    Ok(tree::splice(&raw, edits))
}

/// The document being rewritten.
struct Listing<'d> {
    raw: &'d Bytes,
    /// The tokens inside the root.
    inner: &'d [Token],
    encoding: KeyEncoding,
}

type Edit = (std::ops::Range<usize>, String);

impl Listing<'_> {
    fn edits<F>(&self, children: &[Child], decide: &mut F) -> Result<Vec<Edit>, UpstreamXmlError>
    where
        F: FnMut(&UploadIdRef<'_>) -> UploadIdVerdict,
    {
        let key_marker = self.key_of(children, "KeyMarker")?;
        let next_key_marker = self.key_of(children, "NextKeyMarker")?;
        let mut edits = Vec::new();
        for child in children {
            let edit = match child.name.as_str() {
                "UploadIdMarker" => self.marker(child, UploadIdPlace::Marker, &key_marker, decide),
                "NextUploadIdMarker" => {
                    self.marker(child, UploadIdPlace::NextMarker, &next_key_marker, decide)
                }
                "Upload" => self.upload(child, decide),
                _ => Ok(None),
            };
            edits.extend(edit?);
        }
        Ok(edits)
    }

    fn marker<F>(
        &self,
        child: &Child,
        place: UploadIdPlace,
        key: &str,
        decide: &mut F,
    ) -> Result<Option<Edit>, UpstreamXmlError>
    where
        F: FnMut(&UploadIdRef<'_>) -> UploadIdVerdict,
    {
        let upload_id = child.text(self.raw)?;
        if upload_id.is_empty() {
            return Ok(None);
        }
        match decide(&UploadIdRef {
            place,
            key,
            upload_id: &upload_id,
        }) {
            UploadIdVerdict::Replace(id) => Ok(Some(self.replacement(child, &id))),
            UploadIdVerdict::Keep | UploadIdVerdict::Skip => Ok(None),
        }
    }

    fn upload<F>(&self, upload: &Child, decide: &mut F) -> Result<Option<Edit>, UpstreamXmlError>
    where
        F: FnMut(&UploadIdRef<'_>) -> UploadIdVerdict,
    {
        let fields = tree::children(self.raw, upload.inner(self.inner));
        let field = |element| {
            fields
                .iter()
                .find(|c| c.name == element)
                .ok_or(UpstreamXmlError::MissingElement {
                    parent: "Upload",
                    element,
                })
        };
        let id_field = field("UploadId")?;
        let key = decode_key(&field("Key")?.text(self.raw)?, self.encoding)?;
        let upload_id = id_field.text(self.raw)?;
        let place = UploadIdPlace::Upload;
        Ok(
            match decide(&UploadIdRef {
                place,
                key: &key,
                upload_id: &upload_id,
            }) {
                UploadIdVerdict::Keep => None,
                UploadIdVerdict::Replace(id) => Some(self.replacement(id_field, &id)),
                UploadIdVerdict::Skip => Some(upload.removal()),
            },
        )
    }

    /// The decoded text of the first top-level element `name`, or an empty key.
    fn key_of(&self, children: &[Child], name: &str) -> Result<String, UpstreamXmlError> {
        match children.iter().find(|c| c.name == name) {
            Some(child) => decode_key(&child.text(self.raw)?, self.encoding),
            None => Ok(String::new()),
        }
    }

    fn replacement(&self, child: &Child, upload_id: &str) -> Edit {
        child.set_content(self.raw, escape(upload_id).into_owned())
    }
}
