//! The policy decides a copy's source as a read: a client that may not GET an object cannot
//! copy it either, whole (CopyObject) or in part (UploadPartCopy).

mod standalone;

use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use cloak_proxy::dev::EmbeddedStore;
use cloak_proxy::hooks::{Decision, Hooks, Policy, RequestContext};
use cloak_proxy::route::Op;

use standalone::{client, start, Store};

const BUCKET: &str = "bucket";

/// Refuses reads of keys under `secret/`; allows everything else.
struct NoSecretReads;

impl Policy for NoSecretReads {
    fn decide(&self, ctx: &RequestContext) -> Decision {
        let secret = ctx.key.as_deref().is_some_and(|k| k.starts_with("secret/"));
        if secret && matches!(ctx.op, Op::GetObject | Op::HeadObject) {
            return Decision::Deny {
                reason: "secret/ is write-only".into(),
            };
        }
        Decision::Allow
    }
}

/// The error code, and whether the message blames the copy source.
fn code<E: aws_sdk_s3::error::ProvideErrorMetadata>(e: &E) -> String {
    let source = e.message().unwrap_or_default().contains("copy source");
    format!(
        "{}{}",
        e.code().unwrap_or_default(),
        if source { " (source)" } else { "" }
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_the_client_may_not_read_is_not_copied() {
    let dir = tempfile::tempdir().expect("dir");
    let (access, secret) = ("CLOAKTESTUPSTREAM", "cloak-test-upstream-secret-0123456789");
    let store = EmbeddedStore::start(&dir.path().join("store"), 0, access, secret).await;
    let store = store.expect("the embedded store starts");
    let endpoint = store.endpoint();
    let upstream = Store {
        endpoint: &endpoint,
        access_key: access,
        secret_key: secret,
    };
    let hooks = Hooks {
        policy: Arc::new(NoSecretReads),
        ..Hooks::default()
    };
    let s3 = client(&start(dir.path(), &upstream, hooks).await);
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("bucket");
    let put = s3.put_object().bucket(BUCKET).key("secret/plan");
    put.body(ByteStream::from_static(b"write-only"))
        .send()
        .await
        .expect("PUT");

    let get = s3
        .get_object()
        .bucket(BUCKET)
        .key("secret/plan")
        .send()
        .await;
    assert_eq!(code(&get.unwrap_err().into_service_error()), "AccessDenied");
    let copy = s3
        .copy_object()
        .copy_source(format!("{BUCKET}/secret/plan"));
    let copy = copy.bucket(BUCKET).key("public/plan").send().await;
    let refused = code(&copy.unwrap_err().into_service_error());
    assert_eq!(refused, "AccessDenied (source)");

    let upload = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("public/parts")
        .send();
    let upload = upload.await.expect("create");
    let part = s3.upload_part_copy().bucket(BUCKET).key("public/parts");
    let part = part
        .upload_id(upload.upload_id().expect("id"))
        .part_number(1);
    let part = part
        .copy_source(format!("{BUCKET}/secret/plan"))
        .send()
        .await;
    let refused = code(&part.unwrap_err().into_service_error());
    assert_eq!(refused, "AccessDenied (source)");

    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key("public/plan")
        .send()
        .await;
    assert!(head.is_err(), "nothing was copied");
    store.shutdown().await;
}
