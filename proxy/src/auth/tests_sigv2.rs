//! SigV2 verification tests against the examples of AWS's "Signing and Authenticating REST
//! Requests" page (old example keys), and its query-string example.

use std::time::{Duration, SystemTime};

use http::request::Parts;

use super::*;

const AKID: &str = "0PN5J17HBGZHT7JJ3X82";
const SECRET: &str = "uV3F3YluFJax1cknvbcGwgjvx4QpvB+leU8dUj2o";
const PRESIGN_AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const PRESIGN_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn store() -> StaticCredentials {
    let mut store = StaticCredentials::new();
    store.insert(AKID, "john", SecretKey::new(SECRET));
    store.insert(PRESIGN_AKID, "example", SecretKey::new(PRESIGN_SECRET));
    store
}

fn options() -> AuthOptions {
    AuthOptions {
        allow_sigv2: true,
        virtual_host_domain: Some("s3.amazonaws.com".into()),
        ..AuthOptions::default()
    }
}

fn at(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}

struct Example {
    method: &'static str,
    target: &'static str,
    headers: &'static [(&'static str, &'static str)],
    signature: &'static str,
    /// The request time, as epoch seconds.
    time: u64,
}

const EXAMPLES: &[Example] = &[
    Example {
        method: "GET",
        target: "/photos/puppy.jpg",
        headers: &[
            ("host", "johnsmith.s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 19:36:42 +0000"),
        ],
        signature: "xXjDGYUmKxnwqr5KXNPGldn5LbA=",
        time: 1_175_024_202,
    },
    Example {
        method: "PUT",
        target: "/photos/puppy.jpg",
        headers: &[
            ("content-type", "image/jpeg"),
            ("content-length", "94328"),
            ("host", "johnsmith.s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 21:15:45 +0000"),
        ],
        signature: "hcicpDDvL9SsO6AkvxqmIWkmOuQ=",
        time: 1_175_030_145,
    },
    Example {
        method: "GET",
        target: "/?prefix=photos&max-keys=50&marker=puppy",
        headers: &[
            ("user-agent", "Mozilla/5.0"),
            ("host", "johnsmith.s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 19:42:41 +0000"),
        ],
        signature: "jsRt/rhG+Vtp88HrYL706QhE4w4=",
        time: 1_175_024_561,
    },
    Example {
        method: "GET",
        target: "/?acl",
        headers: &[
            ("host", "johnsmith.s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 19:44:46 +0000"),
        ],
        signature: "thdUi9VAkzhkniLj96JIrOPGi0g=",
        time: 1_175_024_686,
    },
    Example {
        method: "DELETE",
        target: "/johnsmith/photos/puppy.jpg",
        headers: &[
            ("user-agent", "dotnet"),
            ("host", "s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 21:20:27 +0000"),
            ("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"),
        ],
        signature: "k3nL7gH3+PadhTEVn5Ip83xlYzk=",
        time: 1_175_030_426,
    },
    Example {
        method: "GET",
        target: "/",
        headers: &[
            ("host", "s3.amazonaws.com"),
            ("date", "Wed, 28 Mar 2007 01:29:59 +0000"),
        ],
        signature: "Db+gepJSUbZKwpx1FR0DLtEYoZA=",
        time: 1_175_045_399,
    },
    Example {
        method: "GET",
        target: "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
        headers: &[
            ("host", "s3.amazonaws.com"),
            ("date", "Wed, 28 Mar 2007 01:49:49 +0000"),
        ],
        signature: "dxhSBHoI6eVSPcXJqEghlUzZMnY=",
        time: 1_175_046_589,
    },
];

fn request(example: &Example, signature: &str) -> Parts {
    let mut builder = http::Request::builder()
        .method(example.method)
        .uri(example.target);
    for (name, value) in example.headers {
        builder = builder.header(*name, *value);
    }
    let authorization = format!("AWS {AKID}:{signature}");
    builder = builder.header("authorization", authorization);
    builder.body(()).expect("valid test request").into_parts().0
}

#[test]
fn aws_v2_header_examples_verify() {
    for example in EXAMPLES {
        let p = request(example, example.signature);
        let verified = verify(&p, &store(), at(example.time), &options())
            .unwrap_or_else(|e| panic!("{} {}: {e}", example.method, example.target));
        assert_eq!(verified.scheme, AuthScheme::SigV2Header);
        assert_eq!(verified.principal.name, "john");
        assert!(matches!(verified.payload, Payload::Unsigned));
    }
}

#[test]
fn v2_signature_with_a_changed_byte_fails() {
    for example in EXAMPLES {
        let wrong = example
            .signature
            .replacen(|c: char| c.is_ascii_alphabetic(), "0", 1);
        let p = request(example, &wrong);
        let error = verify(&p, &store(), at(example.time), &options()).unwrap_err();
        assert_eq!(error, AuthError::SignatureMismatch, "{}", example.target);
    }
}

#[test]
fn v2_needs_the_virtual_host_domain_for_bucket_hosts() {
    let example = &EXAMPLES[0];
    let opts = AuthOptions {
        virtual_host_domain: None,
        ..options()
    };
    let p = request(example, example.signature);
    let error = verify(&p, &store(), at(example.time), &opts).unwrap_err();
    assert_eq!(error, AuthError::SignatureMismatch);
}

#[test]
fn v2_is_refused_unless_enabled() {
    let example = &EXAMPLES[0];
    let opts = AuthOptions::default();
    let p = request(example, example.signature);
    let error = verify(&p, &store(), at(example.time), &opts).unwrap_err();
    assert_eq!(error, AuthError::SigV2Refused);
    assert_eq!(error.s3_code(), "AccessDenied");

    let presigned = presigned_request();
    let error = verify(&presigned, &store(), at(EXPIRES - 60), &opts).unwrap_err();
    assert_eq!(error, AuthError::SigV2Refused);
}

#[test]
fn v2_header_auth_checks_clock_skew() {
    let example = &EXAMPLES[0];
    let p = request(example, example.signature);
    let error = verify(&p, &store(), at(example.time + 901), &options()).unwrap_err();
    assert_eq!(error, AuthError::ClockSkew);
}

const EXPIRES: u64 = 1_175_139_620;

fn presigned_request() -> Parts {
    let target = "/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE\
        &Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620";
    http::Request::get(target)
        .header("host", "johnsmith.s3.amazonaws.com")
        .body(())
        .expect("valid test request")
        .into_parts()
        .0
}

#[test]
fn aws_v2_query_example_verifies_until_it_expires() {
    let p = presigned_request();
    let verified = verify(&p, &store(), at(EXPIRES - 60), &options()).expect("valid");
    assert_eq!(verified.scheme, AuthScheme::SigV2Query);
    assert_eq!(verified.principal.access_key_id, PRESIGN_AKID);

    let error = verify(&p, &store(), at(EXPIRES + 1), &options()).unwrap_err();
    assert_eq!(error, AuthError::Expired);
}

#[test]
fn v2_query_expiry_is_bounded_by_the_maximum_lifetime() {
    let p = presigned_request();
    let long_before = EXPIRES - 8 * 24 * 3600;
    let error = verify(&p, &store(), at(long_before), &options()).unwrap_err();
    assert!(
        matches!(error, AuthError::ExpiryOutOfRange { .. }),
        "{error:?}"
    );
}
