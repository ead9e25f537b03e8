//! SigV4 verification tests: AWS's published S3 examples, and round trips through the
//! `aws-sigv4` signer (an independent implementation) with tampering on top.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode,
};
use aws_smithy_runtime_api::client::identity::Identity;
use http::request::Parts;

use super::*;

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// 2013-05-24T00:00:00Z, the time of AWS's examples.
const EXAMPLE_TIME: u64 = 1_369_353_600;

fn at(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}

fn store() -> StaticCredentials {
    let mut store = StaticCredentials::new();
    store.insert(AKID, "example", SecretKey::new(SECRET));
    store
}

fn parts(method: &str, target: &str, headers: &[(&str, &str)]) -> Parts {
    let mut builder = http::Request::builder().method(method).uri(target);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).expect("valid test request").into_parts().0
}

fn check(p: &Parts, now: SystemTime) -> Result<Verified, AuthError> {
    verify(p, &store(), now, &AuthOptions::default())
}

fn v4_authorization(signed_headers: &str, signature: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={AKID}/20130524/us-east-1/s3/aws4_request, \
         SignedHeaders={signed_headers}, Signature={signature}"
    )
}

fn example_get(signature: &str) -> Parts {
    let authorization = v4_authorization("host;range;x-amz-content-sha256;x-amz-date", signature);
    parts(
        "GET",
        "/test.txt",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
            ("authorization", &authorization),
        ],
    )
}

const GET_OBJECT_SIGNATURE: &str =
    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";

#[test]
fn aws_example_get_object() {
    let verified = check(&example_get(GET_OBJECT_SIGNATURE), at(EXAMPLE_TIME)).expect("valid");
    assert_eq!(verified.principal.access_key_id, AKID);
    assert_eq!(verified.region, "us-east-1");
    assert_eq!(verified.scheme, AuthScheme::SigV4Header);
    assert!(matches!(verified.payload, Payload::Sha256(d) if hex::encode(d) == EMPTY_SHA256));
}

#[test]
fn aws_example_get_object_with_one_digit_changed_fails() {
    let wrong = GET_OBJECT_SIGNATURE.replace("f0e8", "f0e9");
    let error = check(&example_get(&wrong), at(EXAMPLE_TIME)).unwrap_err();
    assert_eq!(error, AuthError::SignatureMismatch);
}

#[test]
fn aws_example_put_object_escapes_a_raw_dollar() {
    let authorization = v4_authorization(
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    );
    let digest = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
    let p = parts(
        "PUT",
        "/test$file.text",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", digest),
            ("authorization", &authorization),
        ],
    );
    check(&p, at(EXAMPLE_TIME)).expect("valid");
}

#[test]
fn aws_example_bucket_queries() {
    let cases = [
        (
            "/?lifecycle",
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
        ),
        (
            "/?max-keys=2&prefix=J",
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
        ),
    ];
    for (target, signature) in cases {
        let authorization = v4_authorization("host;x-amz-content-sha256;x-amz-date", signature);
        let p = parts(
            "GET",
            target,
            &[
                ("host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-content-sha256", EMPTY_SHA256),
                ("authorization", &authorization),
            ],
        );
        check(&p, at(EXAMPLE_TIME)).unwrap_or_else(|e| panic!("{target}: {e}"));
    }
}

#[test]
fn aws_example_presigned_url_and_its_expiry() {
    let target = "https://examplebucket.s3.amazonaws.com/test.txt\
        ?X-Amz-Algorithm=AWS4-HMAC-SHA256\
        &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
        &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
        &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    let p = parts("GET", target, &[("host", "examplebucket.s3.amazonaws.com")]);

    let verified = check(&p, at(EXAMPLE_TIME + 86_400)).expect("valid until the end");
    assert_eq!(verified.scheme, AuthScheme::SigV4Query);
    assert!(matches!(verified.payload, Payload::Unsigned));

    let error = check(&p, at(EXAMPLE_TIME + 86_401)).unwrap_err();
    assert_eq!(error, AuthError::Expired);
    assert_eq!(error.s3_code(), "AccessDenied");

    let error = check(&p, at(EXAMPLE_TIME - 16 * 60)).unwrap_err();
    assert_eq!(error, AuthError::ClockSkew);
}

/// The PUT of AWS's chunked upload example, with seed signature and headers as published.
fn example_chunked_put(trailer: bool) -> Parts {
    let (signed, seed, content_sha256) = if trailer {
        (
            "content-encoding;host;x-amz-content-sha256;x-amz-date;\
             x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
            "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        )
    } else {
        (
            "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;\
             x-amz-decoded-content-length;x-amz-storage-class",
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        )
    };
    let authorization = v4_authorization(signed, seed);
    let mut headers = vec![
        ("host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("authorization", &authorization),
        ("x-amz-content-sha256", content_sha256),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("content-length", "66824"),
    ];
    if trailer {
        headers.push(("x-amz-trailer", "x-amz-checksum-crc32c"));
    }
    parts("PUT", "/examplebucket/chunkObject.txt", &headers)
}

#[test]
fn aws_example_chunked_upload_seeds_the_chunk_chain() {
    let verified = check(&example_chunked_put(false), at(EXAMPLE_TIME)).expect("valid");
    let Payload::StreamingSigned {
        trailer: false,
        mut seed,
    } = verified.payload
    else {
        panic!("expected signed streaming, got {:?}", verified.payload);
    };
    let first: [u8; 32] = sha2::Sha256::digest([b'a'; 65_536]).into();
    let published = b"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
    assert!(seed.verify_chunk(&first, published));
}

#[test]
fn aws_example_signed_trailer_upload_seeds_the_chunk_chain() {
    let verified = check(&example_chunked_put(true), at(EXAMPLE_TIME)).expect("valid");
    let Payload::StreamingSigned {
        trailer: true,
        mut seed,
    } = verified.payload
    else {
        panic!(
            "expected signed streaming with trailer, got {:?}",
            verified.payload
        );
    };
    let first: [u8; 32] = sha2::Sha256::digest([b'a'; 65_536]).into();
    let published = b"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2";
    assert!(seed.verify_chunk(&first, published));
}

use sha2::Digest as _;

// ---- Round trips through aws-sigv4 ----

/// 2024-03-01T12:00:00Z.
const NOW: u64 = 1_709_294_400;

struct Sign<'a> {
    method: &'a str,
    url: &'a str,
    headers: &'a [(&'a str, &'a str)],
    body: SignableBody<'a>,
    secret: &'a str,
    region: &'a str,
    presign: Option<Duration>,
    checksum_header: bool,
}

impl Default for Sign<'_> {
    fn default() -> Self {
        Self {
            method: "GET",
            url: "https://s3.us-east-1.example.test/bucket/key",
            headers: &[],
            body: SignableBody::Bytes(b""),
            secret: SECRET,
            region: "us-east-1",
            presign: None,
            checksum_header: true,
        }
    }
}

/// Signs like the AWS SDK for Rust does for S3, and returns the request head as the proxy
/// would receive it (origin-form target, Host header).
fn sdk_signed(s: Sign<'_>) -> Parts {
    let mut request = http::Request::builder().method(s.method).uri(s.url);
    for (name, value) in s.headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(()).expect("valid test request");

    let identity: Identity = Credentials::new(AKID, s.secret, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    if s.checksum_header {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    if let Some(expires) = s.presign {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
    }
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(s.region)
        .name("s3")
        .time(at(NOW))
        .settings(settings)
        .build()
        .expect("complete params")
        .into();
    let headers = request
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str(), v.to_str().expect("ascii test header")));
    let signable = SignableRequest::new(s.method, s.url, headers, s.body).expect("signable");
    let (instructions, _) = sign(signable, &params).expect("signed").into_parts();
    instructions.apply_to_request_http1x(&mut request);

    let (mut parts, ()) = request.into_parts();
    let authority = parts
        .uri
        .authority()
        .expect("absolute url")
        .as_str()
        .to_owned();
    parts
        .headers
        .insert("host", authority.parse().expect("valid host"));
    let origin = parts
        .uri
        .path_and_query()
        .expect("has a path")
        .as_str()
        .to_owned();
    parts.uri = origin.parse().expect("origin form");
    parts
}

fn verify_now(p: &Parts) -> Result<Verified, AuthError> {
    check(p, at(NOW))
}

#[test]
fn sdk_signed_requests_verify() {
    let urls = [
        "https://s3.us-east-1.example.test/bucket/key",
        "https://s3.us-east-1.example.test/bucket/a%20key%2Bwith%24odd~chars/%C3%A9",
        "https://s3.us-east-1.example.test/bucket/dir//./../x",
        "https://s3.us-east-1.example.test/bucket?list-type=2&prefix=a%2Fb&delimiter=%2F",
        "https://s3.us-east-1.example.test/bucket?uploads",
        "https://s3.us-east-1.example.test/bucket?prefix=&max-keys=10",
        "https://s3.us-east-1.example.test/bucket/k?versionId=a%20b&tagging",
        "http://localhost:9000/bucket/key",
    ];
    for url in urls {
        let p = sdk_signed(Sign {
            url,
            ..Sign::default()
        });
        let verified = verify_now(&p).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(verified.principal.name, "example");
    }
}

#[test]
fn sdk_signed_put_with_headers_verifies() {
    let headers = [
        ("content-type", "text/plain"),
        ("x-amz-meta-note", "  two   spaces "),
        ("content-md5", "XUFAKrxLKna5cZ2REBfFkg=="),
    ];
    let p = sdk_signed(Sign {
        method: "PUT",
        headers: &headers,
        body: SignableBody::Bytes(b"hello"),
        ..Sign::default()
    });
    let verified = verify_now(&p).expect("valid");
    let expected: [u8; 32] = sha2::Sha256::digest(b"hello").into();
    assert!(matches!(verified.payload, Payload::Sha256(d) if d == expected));
}

#[test]
fn any_client_region_verifies() {
    for region in ["auto", "eu-central-1", "", "garage"] {
        let p = sdk_signed(Sign {
            region,
            ..Sign::default()
        });
        let verified = verify_now(&p).unwrap_or_else(|e| panic!("region {region:?}: {e}"));
        assert_eq!(verified.region, region);
    }
}

#[test]
fn wrong_secret_is_a_signature_mismatch() {
    let p = sdk_signed(Sign {
        secret: "not the secret",
        ..Sign::default()
    });
    assert_eq!(verify_now(&p).unwrap_err(), AuthError::SignatureMismatch);
}

#[test]
fn unknown_access_key_is_reported() {
    let mut p = sdk_signed(Sign::default());
    let authorization = p.headers["authorization"]
        .to_str()
        .expect("ascii")
        .replace(AKID, "AKIDOTHER");
    p.headers
        .insert("authorization", authorization.parse().expect("valid"));
    let error = verify_now(&p).unwrap_err();
    assert_eq!(error, AuthError::UnknownAccessKey);
    assert_eq!(error.s3_code(), "InvalidAccessKeyId");
}

#[test]
fn tampering_with_anything_signed_breaks_the_signature() {
    let headers = [("range", "bytes=0-9")];
    let tamperings: [fn(&mut Parts); 5] = [
        |p| p.uri = "/bucket/other".parse().expect("valid"),
        |p| p.uri = "/bucket/key?x=1".parse().expect("valid"),
        |p| p.method = http::Method::DELETE,
        |p| {
            p.headers
                .insert("range", "bytes=0-99".parse().expect("valid"));
        },
        |p| {
            p.headers
                .insert("host", "elsewhere.example.test".parse().expect("valid"));
        },
    ];
    for tamper in tamperings {
        let mut p = sdk_signed(Sign {
            headers: &headers,
            ..Sign::default()
        });
        verify_now(&p).expect("valid before tampering");
        tamper(&mut p);
        assert_eq!(verify_now(&p).unwrap_err(), AuthError::SignatureMismatch);
    }
}

#[test]
fn an_escape_is_not_the_byte_it_stands_for() {
    let mut p = sdk_signed(Sign {
        url: "https://s3.us-east-1.example.test/bucket/a%2Fb",
        ..Sign::default()
    });
    verify_now(&p).expect("valid as sent");
    p.uri = "/bucket/a/b".parse().expect("valid");
    assert_eq!(verify_now(&p).unwrap_err(), AuthError::SignatureMismatch);
}

#[test]
fn added_amz_header_is_refused() {
    let mut p = sdk_signed(Sign::default());
    p.headers
        .insert("x-amz-copy-source", "/other/key".parse().expect("valid"));
    let error = verify_now(&p).unwrap_err();
    assert!(
        matches!(error, AuthError::UnsignedAmzHeader { .. }),
        "{error:?}"
    );
}

#[test]
fn both_component_separators_verify() {
    let mut p = sdk_signed(Sign::default());
    let spaced = p.headers["authorization"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(spaced.contains(", "), "the SDK separates with ', '");
    let tight = spaced.replace(", ", ",");
    p.headers
        .insert("authorization", tight.parse().expect("valid"));
    verify_now(&p).expect("boto2 separators");
}

#[test]
fn clock_skew_is_refused_beyond_fifteen_minutes() {
    let p = sdk_signed(Sign::default());
    for offset in [-900_i64, 900] {
        check(&p, at(NOW.saturating_add_signed(offset))).expect("within the skew");
    }
    for offset in [-901_i64, 901] {
        let error = check(&p, at(NOW.saturating_add_signed(offset))).unwrap_err();
        assert_eq!(error, AuthError::ClockSkew);
        assert_eq!(error.s3_code(), "RequestTimeTooSkewed");
    }
}

#[test]
fn absolute_form_target_verifies() {
    let mut p = sdk_signed(Sign {
        url: "http://s3.us-east-1.example.test/bucket/key?acl",
        ..Sign::default()
    });
    p.uri = "http://s3.us-east-1.example.test/bucket/key?acl"
        .parse()
        .expect("valid");
    verify_now(&p).expect("absolute form");
}

#[test]
fn authority_replaces_a_missing_host_header() {
    let mut p = sdk_signed(Sign {
        url: "https://s3.example.test:8443/bucket/key",
        ..Sign::default()
    });
    p.headers.remove("host");
    p.uri = "https://s3.example.test:8443/bucket/key"
        .parse()
        .expect("valid");
    verify_now(&p).expect("HTTP/2 style request");
}

#[test]
fn presigned_round_trip_and_expiry() {
    let sign = || {
        sdk_signed(Sign {
            presign: Some(Duration::from_secs(3600)),
            body: SignableBody::UnsignedPayload,
            checksum_header: false,
            ..Sign::default()
        })
    };
    let p = sign();
    assert!(p.uri.query().expect("query").contains("X-Amz-Signature="));
    let verified = check(&p, at(NOW + 3600)).expect("valid until expiry");
    assert_eq!(verified.scheme, AuthScheme::SigV4Query);
    assert_eq!(check(&p, at(NOW + 3601)).unwrap_err(), AuthError::Expired);

    let mut tampered = sign();
    let query = tampered
        .uri
        .to_string()
        .replace("bucket/key", "bucket/other");
    tampered.uri = query.parse().expect("valid");
    assert_eq!(
        verify_now(&tampered).unwrap_err(),
        AuthError::SignatureMismatch
    );
}

#[test]
fn presigned_lifetime_is_bounded() {
    let p = sdk_signed(Sign {
        presign: Some(Duration::from_secs(604_800)),
        body: SignableBody::UnsignedPayload,
        checksum_header: false,
        ..Sign::default()
    });
    verify_now(&p).expect("seven days is allowed");

    for expires in ["604801", "0", "-7"] {
        let target = p
            .uri
            .to_string()
            .replace("X-Amz-Expires=604800", &format!("X-Amz-Expires={expires}"));
        let mut changed = p.clone();
        changed.uri = target.parse().expect("valid");
        let error = verify_now(&changed).unwrap_err();
        assert!(
            matches!(error, AuthError::ExpiryOutOfRange { .. }),
            "{expires}: {error:?}"
        );
        assert_eq!(error.http_status(), 403);
    }
}

#[test]
fn streaming_unsigned_trailer_is_reported() {
    let headers = [
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "11"),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
    ];
    let p = sdk_signed(Sign {
        method: "PUT",
        headers: &headers,
        body: SignableBody::StreamingUnsignedPayloadTrailer,
        ..Sign::default()
    });
    let verified = verify_now(&p).expect("valid");
    assert!(matches!(
        verified.payload,
        Payload::StreamingUnsignedTrailer
    ));
    assert!(verified.payload.is_aws_chunked());
}

#[test]
fn missing_content_sha256_is_refused() {
    let p = sdk_signed(Sign {
        checksum_header: false,
        ..Sign::default()
    });
    let error = verify_now(&p).unwrap_err();
    assert_eq!(error, AuthError::MissingContentSha256);
    assert_eq!(error.http_status(), 400);
}

#[test]
fn sigv4a_is_not_implemented() {
    let header = parts(
        "GET",
        "/b/k",
        &[(
            "authorization",
            "AWS4-ECDSA-P256-SHA256 Credential=AK/20240301/s3/aws4_request, \
             SignedHeaders=host;x-amz-region-set, Signature=3045",
        )],
    );
    let query = parts(
        "GET",
        "/b/k?X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=x",
        &[],
    );
    let headers = [(
        "x-amz-content-sha256",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    )];
    let mut streaming = sdk_signed(Sign::default());
    streaming
        .headers
        .insert(headers[0].0, headers[0].1.parse().expect("valid"));
    for p in [header, query, streaming] {
        let error = verify_now(&p).unwrap_err();
        assert_eq!(error.s3_code(), "NotImplemented", "{error:?}");
        assert_eq!(error.http_status(), 501);
    }
}

#[test]
fn requests_without_auth_are_refused() {
    let error = verify_now(&parts("GET", "/bucket/key", &[("host", "h")])).unwrap_err();
    assert_eq!(error, AuthError::Anonymous);
    assert_eq!(error.s3_code(), "AccessDenied");

    let bearer = parts("GET", "/b/k", &[("authorization", "Bearer token")]);
    assert_eq!(
        verify_now(&bearer).unwrap_err(),
        AuthError::UnknownAuthorizationType
    );
}

#[test]
fn two_mechanisms_at_once_are_refused() {
    let mut p = sdk_signed(Sign::default());
    p.uri = "/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        .parse()
        .expect("valid");
    assert_eq!(
        verify_now(&p).unwrap_err(),
        AuthError::ConflictingMechanisms
    );
}

#[test]
fn scope_date_must_match_the_request_date() {
    let mut p = sdk_signed(Sign::default());
    p.headers
        .insert("x-amz-date", "20240302T120000Z".parse().expect("valid"));
    let error = check(&p, at(NOW + 86_400)).unwrap_err();
    assert!(
        matches!(error, AuthError::MalformedAuthorization { .. }),
        "{error:?}"
    );
}

#[test]
fn invalid_content_sha256_is_an_invalid_argument() {
    let mut p = sdk_signed(Sign::default());
    p.headers.insert(
        "x-amz-content-sha256",
        "SOMETHING-ELSE".parse().expect("valid"),
    );
    let error = verify_now(&p).unwrap_err();
    assert_eq!(error.s3_code(), "InvalidArgument");
}
