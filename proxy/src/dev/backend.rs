//! The embedded store's S3 operations: s3s-fs's `FileSystem`, with three gaps closed that the
//! proxy would otherwise trip over.
//!
//! - Suffix ranges (`Range: bytes=-N`). `FileSystem` seeks `N` bytes back from the end without
//!   clamping, so a suffix longer than the object fails with InternalError, and a suffix on an
//!   empty object underflows its `Content-Range` arithmetic. S3 answers a long suffix with the
//!   whole object. Each suffix is turned into an explicit `bytes=FIRST-` range after a HEAD,
//!   which `FileSystem` clamps correctly and answers with `Content-Range: bytes FIRST-LAST/SIZE`.
//! - Conditional reads. `FileSystem` ignores `If-Match`, `If-None-Match`, `If-Modified-Since`
//!   and `If-Unmodified-Since` on GetObject and HeadObject; they are evaluated here against a
//!   HEAD, in RFC 9110's order, at HTTP-date (whole second) precision.
//! - ETags in listings. `FileSystem` lists key, size and date only; S3 always gives the ETag.
//! - ListParts: order, ETags, paging and NoSuchUpload (`parts`).
//!
//! The HEAD and the read that follows it are not atomic: an object replaced between the two is
//! read as it then is, with the range offsets and conditions taken from the one before. That race
//! is accepted for a development store.

use std::io;
use std::path::{Path, PathBuf};

use http::{Extensions, HeaderMap, Method};
use s3s::dto::{self, ETag, ETagCondition, Range, Timestamp};
use s3s::{s3_error, S3Request, S3Response, S3Result, S3};
use s3s_fs::FileSystem;
use time::OffsetDateTime;

/// s3s-fs's `FileSystem`, with the fixes described in the module docs.
#[derive(Debug)]
pub(super) struct Backend {
    fs: FileSystem,
    root: PathBuf,
}

/// The conditional-request headers of a GetObject or HeadObject.
struct Preconditions<'a> {
    if_match: Option<&'a ETagCondition>,
    if_none_match: Option<&'a ETagCondition>,
    if_modified_since: Option<&'a Timestamp>,
    if_unmodified_since: Option<&'a Timestamp>,
}

impl Backend {
    /// Opens (creating if needed) the data directory.
    pub(super) fn open(data_dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let root = data_dir.canonicalize()?;

        // The only failures left in `FileSystem::new` are I/O ones from clearing stale
        // temporary files; its error type implements `Debug` only.
        let fs = FileSystem::new(&root).map_err(|e| io::Error::other(format!("{e:?}")))?;
        Ok(Self { fs, root })
    }

    /// HEADs one object on behalf of another request, with that request's identity.
    async fn stat<T>(
        &self,
        req: &S3Request<T>,
        bucket: &str,
        key: &str,
    ) -> S3Result<dto::HeadObjectOutput> {
        let input = dto::HeadObjectInput {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            ..Default::default()
        };
        let head = S3Request {
            input,
            method: Method::HEAD,
            uri: req.uri.clone(),
            headers: HeaderMap::new(),
            extensions: Extensions::new(),
            credentials: req.credentials.clone(),
            region: req.region.clone(),
            service: req.service.clone(),
            trailing_headers: None,
        };
        Ok(self.fs.head_object(head).await?.output)
    }

    /// Fills in the ETag of each listed object. An object deleted since the listing keeps none.
    async fn fill_etags<T>(
        &self,
        req: &S3Request<T>,
        bucket: &str,
        objects: Option<&mut Vec<dto::Object>>,
    ) {
        for object in objects.into_iter().flatten() {
            if let (None, Some(key)) = (&object.e_tag, &object.key) {
                object.e_tag = self.stat(req, bucket, key).await.ok().and_then(|h| h.e_tag);
            }
        }
    }
}

impl Preconditions<'_> {
    fn of_get(input: &dto::GetObjectInput) -> Preconditions<'_> {
        Preconditions {
            if_match: input.if_match.as_ref(),
            if_none_match: input.if_none_match.as_ref(),
            if_modified_since: input.if_modified_since.as_ref(),
            if_unmodified_since: input.if_unmodified_since.as_ref(),
        }
    }

    fn of_head(input: &dto::HeadObjectInput) -> Preconditions<'_> {
        Preconditions {
            if_match: input.if_match.as_ref(),
            if_none_match: input.if_none_match.as_ref(),
            if_modified_since: input.if_modified_since.as_ref(),
            if_unmodified_since: input.if_unmodified_since.as_ref(),
        }
    }

    fn is_empty(&self) -> bool {
        self.if_match.is_none()
            && self.if_none_match.is_none()
            && self.if_modified_since.is_none()
            && self.if_unmodified_since.is_none()
    }

    /// RFC 9110 section 13.2.2: a date condition counts only when the matching ETag condition
    /// is absent. A failed `If-Match` is 412; a matching `If-None-Match` on a read is 304.
    fn check(&self, object: &dto::HeadObjectOutput) -> S3Result<()> {
        let etag = object.e_tag.as_ref();
        let modified = object.last_modified.as_ref().map(whole_seconds);

        let still_matches = match (self.if_match, self.if_unmodified_since) {
            (Some(condition), _) => etag_matches(condition, etag, ETag::strong_cmp),
            (None, Some(since)) => modified.is_some_and(|m| m <= whole_seconds(since)),
            (None, None) => true,
        };
        if !still_matches {
            return Err(s3_error!(PreconditionFailed));
        }

        let unchanged = match (self.if_none_match, self.if_modified_since) {
            (Some(condition), _) => etag_matches(condition, etag, ETag::weak_cmp),
            (None, Some(since)) => modified.is_some_and(|m| m <= whole_seconds(since)),
            (None, None) => false,
        };
        if unchanged {
            return Err(s3_error!(NotModified));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl S3 for Backend {
    async fn get_object(
        &self,
        mut req: S3Request<dto::GetObjectInput>,
    ) -> S3Result<S3Response<dto::GetObjectOutput>> {
        let conditions = Preconditions::of_get(&req.input);
        let suffix = matches!(req.input.range, Some(Range::Suffix { .. }));
        if conditions.is_empty() && !suffix {
            return self.fs.get_object(req).await;
        }

        let object = self.stat(&req, &req.input.bucket, &req.input.key).await?;
        conditions.check(&object)?;
        if let Some(range) = req.input.range {
            let size = object.content_length.and_then(|n| u64::try_from(n).ok());
            let size = size.unwrap_or(0);
            req.input.range = Some(explicit_range(range, size));
        }
        self.fs.get_object(req).await
    }

    async fn head_object(
        &self,
        req: S3Request<dto::HeadObjectInput>,
    ) -> S3Result<S3Response<dto::HeadObjectOutput>> {
        let input = req.input.clone();
        let response = self.fs.head_object(req).await?;
        Preconditions::of_head(&input).check(&response.output)?;
        Ok(response)
    }

    async fn list_objects(
        &self,
        req: S3Request<dto::ListObjectsInput>,
    ) -> S3Result<S3Response<dto::ListObjectsOutput>> {
        let bucket = req.input.bucket.clone();
        let mut response = self.fs.list_objects(req.clone()).await?;
        let contents = response.output.contents.as_mut();
        self.fill_etags(&req, &bucket, contents).await;
        Ok(response)
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<dto::ListObjectsV2Input>,
    ) -> S3Result<S3Response<dto::ListObjectsV2Output>> {
        let bucket = req.input.bucket.clone();
        let mut response = self.fs.list_objects_v2(req.clone()).await?;
        let contents = response.output.contents.as_mut();
        self.fill_etags(&req, &bucket, contents).await;
        Ok(response)
    }

    // Everything below is `FileSystem` unchanged. Operations not listed answer NotImplemented.

    async fn create_bucket(
        &self,
        req: S3Request<dto::CreateBucketInput>,
    ) -> S3Result<S3Response<dto::CreateBucketOutput>> {
        self.fs.create_bucket(req).await
    }

    async fn delete_bucket(
        &self,
        req: S3Request<dto::DeleteBucketInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketOutput>> {
        self.fs.delete_bucket(req).await
    }

    async fn head_bucket(
        &self,
        req: S3Request<dto::HeadBucketInput>,
    ) -> S3Result<S3Response<dto::HeadBucketOutput>> {
        self.fs.head_bucket(req).await
    }

    async fn list_buckets(
        &self,
        req: S3Request<dto::ListBucketsInput>,
    ) -> S3Result<S3Response<dto::ListBucketsOutput>> {
        self.fs.list_buckets(req).await
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<dto::GetBucketLocationInput>,
    ) -> S3Result<S3Response<dto::GetBucketLocationOutput>> {
        self.fs.get_bucket_location(req).await
    }

    async fn put_object(
        &self,
        req: S3Request<dto::PutObjectInput>,
    ) -> S3Result<S3Response<dto::PutObjectOutput>> {
        self.fs.put_object(req).await
    }

    async fn copy_object(
        &self,
        req: S3Request<dto::CopyObjectInput>,
    ) -> S3Result<S3Response<dto::CopyObjectOutput>> {
        self.fs.copy_object(req).await
    }

    async fn delete_object(
        &self,
        req: S3Request<dto::DeleteObjectInput>,
    ) -> S3Result<S3Response<dto::DeleteObjectOutput>> {
        self.fs.delete_object(req).await
    }

    async fn delete_objects(
        &self,
        req: S3Request<dto::DeleteObjectsInput>,
    ) -> S3Result<S3Response<dto::DeleteObjectsOutput>> {
        self.fs.delete_objects(req).await
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<dto::CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::CreateMultipartUploadOutput>> {
        self.fs.create_multipart_upload(req).await
    }

    async fn upload_part(
        &self,
        req: S3Request<dto::UploadPartInput>,
    ) -> S3Result<S3Response<dto::UploadPartOutput>> {
        self.fs.upload_part(req).await
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<dto::UploadPartCopyInput>,
    ) -> S3Result<S3Response<dto::UploadPartCopyOutput>> {
        self.fs.upload_part_copy(req).await
    }

    async fn list_parts(
        &self,
        req: S3Request<dto::ListPartsInput>,
    ) -> S3Result<S3Response<dto::ListPartsOutput>> {
        super::parts::list(&self.fs, &self.root, req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<dto::CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::CompleteMultipartUploadOutput>> {
        self.fs.complete_multipart_upload(req).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<dto::AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::AbortMultipartUploadOutput>> {
        self.fs.abort_multipart_upload(req).await
    }
}

/// `bytes=-N` becomes `bytes=SIZE-N-` (from 0 when N exceeds the size). On an empty object
/// that is `bytes=0-`, which `FileSystem` refuses as InvalidRange, as RFC 9110 says it must.
fn explicit_range(range: Range, size: u64) -> Range {
    match range {
        Range::Suffix { length } if length > 0 => Range::Int {
            first: size.saturating_sub(length),
            last: None,
        },
        other => other,
    }
}

fn etag_matches(
    condition: &ETagCondition,
    etag: Option<&ETag>,
    compare: fn(&ETag, &ETag) -> bool,
) -> bool {
    match condition {
        ETagCondition::Any => true,
        ETagCondition::ETag(wanted) => etag.is_some_and(|e| compare(e, wanted)),
    }
}

/// HTTP dates carry whole seconds; file times carry nanoseconds.
fn whole_seconds(t: &Timestamp) -> OffsetDateTime {
    OffsetDateTime::from(t.clone())
        .replace_nanosecond(0)
        .expect("0 is a valid nanosecond")
}
