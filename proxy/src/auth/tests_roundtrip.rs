//! SigV4 round trips: requests signed by the `aws-sigv4` crate (an independent implementation)
//! must verify, and any tampering on top must not.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode,
};
use aws_smithy_runtime_api::client::identity::Identity;
use http::request::Parts;
use sha2::Digest as _;

use super::tests::{at, check, parts, AKID, SECRET};
use super::*;

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
