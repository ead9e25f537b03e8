//! Listings: the store's XML, with every size and ETag rewritten to plaintext terms.

use http::Response;

use super::Call;
use crate::body::ProxyBody;
use crate::error::S3Error;

pub async fn list(call: Call) -> Result<Response<ProxyBody>, S3Error> {
    super::forward::forward(call).await
}
