//! aws-chunked decoding tests: bodies real clients send, AWS's signed examples, every way of
//! breaking them, and property tests that split the input at arbitrary points.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame};
use http_body_util::StreamBody;
use proptest::prelude::*;
use sha2::{Digest, Sha256};

use super::*;

type Pieces = futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TIMESTAMP: &str = "20130524T000000Z";
const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const TRAILER_SEED: &str = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";

/// What a decoded body produced: its data (up to any error), trailers, and the error.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    pub(super) data: Vec<u8>,
    pub(super) trailers: Option<HeaderMap>,
    pub(super) error: Option<ChunkedError>,
}

fn body_of(pieces: Vec<Bytes>, config: DecoderConfig) -> AwsChunkedBody<StreamBody<Pieces>> {
    let frames: Vec<_> = pieces.into_iter().map(|p| Ok(Frame::data(p))).collect();
    AwsChunkedBody::new(StreamBody::new(futures_util::stream::iter(frames)), config)
}

/// Drives a body whose input is always ready.
pub(super) fn run(pieces: Vec<Bytes>, config: DecoderConfig) -> Outcome {
    let mut body = body_of(pieces, config);
    let mut cx = Context::from_waker(Waker::noop());
    let mut outcome = Outcome::default();
    loop {
        match Pin::new(&mut body).poll_frame(&mut cx) {
            Poll::Pending => panic!("ready input never pends"),
            Poll::Ready(None) => break,
            Poll::Ready(Some(Err(e))) => {
                outcome.error = Some(e);
                break;
            }
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) => outcome.data.extend_from_slice(&data),
                Err(frame) => outcome.trailers = frame.into_trailers().ok(),
            },
        }
    }
    assert!(matches!(
        Pin::new(&mut body).poll_frame(&mut cx),
        Poll::Ready(None)
    ));
    outcome
}

pub(super) fn whole(body: &[u8]) -> Vec<Bytes> {
    vec![Bytes::copy_from_slice(body)]
}

pub(super) fn bytewise(body: &[u8]) -> Vec<Bytes> {
    body.iter().map(|b| Bytes::copy_from_slice(&[*b])).collect()
}

pub(super) fn unsigned(decoded_length: Option<u64>) -> DecoderConfig {
    DecoderConfig {
        auth: ChunkAuth::Unsigned,
        decoded_length,
        max_chunk_size: DEFAULT_MAX_CHUNK_SIZE,
    }
}

fn signed(seed: &str, trailer: bool, decoded_length: Option<u64>) -> DecoderConfig {
    let signer = ChunkSigner::for_tests(SECRET, TIMESTAMP, "us-east-1", seed);
    DecoderConfig {
        auth: ChunkAuth::Signed { signer, trailer },
        decoded_length,
        max_chunk_size: DEFAULT_MAX_CHUNK_SIZE,
    }
}

/// AWS's published chunked upload: 64 KiB and 1 KiB of `a`, then the final chunk.
pub(super) fn aws_signed_example(trailer: bool) -> Vec<u8> {
    let sigs = if trailer {
        [
            "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
            "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
            "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
        ]
    } else {
        [
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
        ]
    };
    let mut body = format!("10000;chunk-signature={}\r\n", sigs[0]).into_bytes();
    body.extend_from_slice(&[b'a'; 65_536]);
    body.extend_from_slice(format!("\r\n400;chunk-signature={}\r\n", sigs[1]).as_bytes());
    body.extend_from_slice(&[b'a'; 1024]);
    body.extend_from_slice(format!("\r\n0;chunk-signature={}\r\n", sigs[2]).as_bytes());
    if trailer {
        body.extend_from_slice(
            b"x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:\
              d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n",
        );
    }
    body.extend_from_slice(b"\r\n");
    body
}

#[test]
fn boto3_unsigned_trailer_body() {
    let body = b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    let out = run(whole(body), unsigned(Some(11)));
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.data, b"hello world");
    let trailers = out.trailers.expect("a checksum trailer");
    assert_eq!(trailers["x-amz-checksum-crc32"], "DUoRhQ==");
}

#[test]
fn rust_sdk_uppercase_size() {
    let body = b"B\r\nHello world\r\n0\r\nx-amz-checksum-crc32:i9aeUg==\r\n\r\n";
    let out = run(bytewise(body), unsigned(Some(11)));
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.data, b"Hello world");
}

#[test]
fn unsigned_body_without_trailers() {
    let out = run(whole(b"3\r\nabc\r\n0\r\n\r\n"), unsigned(None));
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.data, b"abc");
    assert!(out.trailers.is_none());
}

#[test]
fn aws_signed_example_decodes_whole_and_bytewise() {
    let body = aws_signed_example(false);
    assert_eq!(body.len(), 66_824, "the published Content-Length");
    for pieces in [whole(&body), bytewise(&body)] {
        let out = run(pieces, signed(SEED, false, Some(66_560)));
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(out.data, vec![b'a'; 66_560]);
        assert!(out.trailers.is_none());
    }
}

#[test]
fn aws_signed_trailer_example_decodes() {
    let out = run(
        whole(&aws_signed_example(true)),
        signed(TRAILER_SEED, true, Some(66_560)),
    );
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.data.len(), 66_560);
    let trailers = out.trailers.expect("the checksum trailer");
    assert_eq!(trailers["x-amz-checksum-crc32c"], "sOO8/Q==");
    assert!(!trailers.contains_key("x-amz-trailer-signature"));
}

#[test]
fn tampered_chunk_is_refused_before_its_data_is_released() {
    let mut body = aws_signed_example(false);
    // The body ends with chunk 2's 1024 bytes, CRLF, and the 86-byte final chunk.
    let second_chunk_data = body.len() - 88 - 500;
    body[second_chunk_data] = b'b';
    let out = run(whole(&body), signed(SEED, false, Some(66_560)));
    assert!(matches!(
        out.error,
        Some(ChunkedError::ChunkSignatureMismatch)
    ));
    assert_eq!(
        out.data.len(),
        65_536,
        "only the verified first chunk was released"
    );
    assert_eq!(out.error.expect("set").s3_code(), "SignatureDoesNotMatch");
}

#[test]
fn wrong_seed_fails_the_first_chunk() {
    let out = run(
        whole(&aws_signed_example(false)),
        signed(TRAILER_SEED, false, None),
    );
    assert!(matches!(
        out.error,
        Some(ChunkedError::ChunkSignatureMismatch)
    ));
    assert!(out.data.is_empty());
}

#[test]
fn dropping_the_final_chunk_is_refused() {
    let body = aws_signed_example(false);
    let cut = body.len() - 86;
    assert_eq!(&body[cut..cut + 2], b"0;");
    let out = run(whole(&body[..cut]), signed(SEED, false, None));
    assert!(matches!(out.error, Some(ChunkedError::Truncated)));
}

#[test]
fn trailer_tampering_is_refused() {
    let body = aws_signed_example(true);
    let text = String::from_utf8(body).expect("ascii");
    let changed_value = text.replace("sOO8/Q==", "AAAAAA==");
    let changed_signature = text.replace("d81f82fc", "d81f82fd");
    let no_signature = text.replace(
        "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n",
        "",
    );
    let cases = [
        (changed_value, "TrailerSignatureMismatch"),
        (changed_signature, "TrailerSignatureMismatch"),
        (no_signature, "MissingTrailerSignature"),
    ];
    for (body, expected) in cases {
        let out = run(whole(body.as_bytes()), signed(TRAILER_SEED, true, None));
        let error = out.error.expect("refused");
        assert!(format!("{error:?}").starts_with(expected), "{error:?}");
        assert!(out.trailers.is_none());
    }
}

#[test]
fn extra_crlf_after_the_final_signed_chunk_is_tolerated() {
    let body = String::from_utf8(aws_signed_example(true)).expect("ascii");
    let body = body.replacen(
        "\r\nx-amz-checksum-crc32c",
        "\r\n\r\nx-amz-checksum-crc32c",
        1,
    );
    let out = run(whole(body.as_bytes()), signed(TRAILER_SEED, true, None));
    assert!(out.error.is_none(), "{:?}", out.error);
}

#[test]
fn decoded_length_is_enforced_both_ways() {
    for declared in [10, 12] {
        let body = b"b\r\nhello world\r\n0\r\n\r\n";
        let out = run(whole(body), unsigned(Some(declared)));
        let error = out.error.expect("refused");
        assert!(
            matches!(error, ChunkedError::DecodedLengthMismatch { .. }),
            "{error:?}"
        );
        assert_eq!(error.s3_code(), "IncompleteBody");
    }
}

#[test]
fn framing_errors_are_refused() {
    let cases: [(&[u8], &str); 7] = [
        (b"3\r\nabc\r\n", "Truncated"),
        (b"3\r\nabcd\r\n0\r\n\r\n", "MalformedChunk"),
        (b"zz\r\nabc\r\n0\r\n\r\n", "MalformedChunk"),
        (b"3\r\nabc\r\n0\r\n\r\nextra", "TrailingData"),
        (b"3\r\nabc\r\n0\r\nno-colon\r\n\r\n", "MalformedTrailer"),
        (
            b"3\r\nabc\r\n0\r\nx-amz-trailer-signature:00\r\n\r\n",
            "MalformedTrailer",
        ),
        (
            b"3;chunk-signature=00\r\nabc\r\n0\r\n\r\n",
            "MalformedChunk",
        ),
    ];
    for (body, expected) in cases {
        let out = run(bytewise(body), unsigned(None));
        let error = out.error.expect("refused");
        assert!(
            format!("{error:?}").starts_with(expected),
            "{body:?}: {error:?}"
        );
    }
}

#[test]
fn overlong_lines_are_refused_without_waiting_for_their_end() {
    let mut body = b"1".repeat(5000);
    body.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
    let out = run(whole(&body[..4200]), unsigned(None));
    assert!(
        matches!(out.error, Some(ChunkedError::MalformedChunk { .. })),
        "{:?}",
        out.error
    );
    let trailer = format!("1\r\nx\r\n0\r\nx-long:{}\r\n\r\n", "v".repeat(5000));
    let out = run(whole(trailer.as_bytes()), unsigned(None));
    assert!(out.error.is_some());
}

#[test]
fn signed_chunks_over_the_limit_are_refused() {
    let mut config = signed(SEED, false, None);
    config.max_chunk_size = 1024;
    let out = run(whole(&aws_signed_example(false)), config);
    assert!(matches!(
        out.error,
        Some(ChunkedError::ChunkTooLarge { size: 65_536, .. })
    ));
}

#[test]
fn unsigned_chunks_stream_without_a_size_limit() {
    let mut config = unsigned(None);
    config.max_chunk_size = 4;
    let out = run(whole(b"a\r\n0123456789\r\n0\r\n\r\n"), config);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.data, b"0123456789");
}

#[test]
fn size_hint_counts_down_the_declared_length() {
    let body = body_of(whole(b"3\r\nabc\r\n0\r\n\r\n"), unsigned(Some(3)));
    assert_eq!(body.size_hint().exact(), Some(3));
    let body = body_of(whole(b""), unsigned(None));
    assert_eq!(body.size_hint().exact(), None);
}

#[test]
fn payload_selects_the_decoder() {
    let signer = ChunkSigner::for_tests(SECRET, TIMESTAMP, "us-east-1", SEED);
    let streaming = Payload::StreamingSigned {
        trailer: true,
        seed: signer,
    };
    let config = DecoderConfig::for_payload(&streaming, Some(5)).expect("aws-chunked");
    assert!(matches!(
        config.auth,
        ChunkAuth::Signed { trailer: true, .. }
    ));
    assert!(DecoderConfig::for_payload(&Payload::StreamingUnsignedTrailer, None).is_some());
    assert!(DecoderConfig::for_payload(&Payload::Unsigned, None).is_none());
}

#[test]
fn decoded_content_length_header() {
    let mut headers = HeaderMap::new();
    assert_eq!(decoded_content_length(&headers).expect("absent"), None);
    headers.insert(
        "x-amz-decoded-content-length",
        "66560".parse().expect("valid"),
    );
    assert_eq!(
        decoded_content_length(&headers).expect("valid"),
        Some(66_560)
    );
    for bad in ["-1", "", "1e3", "99999999999999999999"] {
        headers.insert("x-amz-decoded-content-length", bad.parse().expect("valid"));
        assert!(decoded_content_length(&headers).is_err(), "{bad}");
    }
}

#[test]
fn aws_chunked_is_stripped_from_content_encoding() {
    assert_eq!(
        strip_aws_chunked("gzip, aws-chunked").as_deref(),
        Some("gzip")
    );
    assert_eq!(
        strip_aws_chunked("aws-chunked, gzip").as_deref(),
        Some("gzip")
    );
    assert_eq!(
        strip_aws_chunked("gzip,aws-chunked").as_deref(),
        Some("gzip")
    );
    assert_eq!(strip_aws_chunked("aws-chunked"), None);
    assert_eq!(strip_aws_chunked("aws-chunked, aws-chunked"), None);
}

// ---- Property tests ----

/// Encodes `data` as an unsigned aws-chunked body with the given chunk sizes and trailers.
fn encode_unsigned(data: &[u8], sizes: &[usize], trailers: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in chunks(data, sizes) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n");
    for (name, value) in trailers {
        out.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Encodes `data` with chained chunk signatures from a fresh signer.
fn encode_signed(data: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut chain = ChunkSigner::for_tests(SECRET, TIMESTAMP, "us-east-1", SEED);
    let mut out = Vec::new();
    let mut sign = |chunk: &[u8]| {
        let digest: [u8; 32] = Sha256::digest(chunk).into();
        let signature = hex::encode(chain.chunk_signature(&digest));
        assert!(chain.verify_chunk(&digest, signature.as_bytes()));
        signature
    };
    for chunk in chunks(data, sizes).chain(std::iter::once(&[][..])) {
        let header = format!("{:x};chunk-signature={}\r\n", chunk.len(), sign(chunk));
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Splits `data` into non-empty chunks of the given sizes (cycled), the last one shorter.
fn chunks<'a>(data: &'a [u8], sizes: &'a [usize]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut rest = data;
    let mut sizes = sizes.iter().cycle();
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let size = (*sizes.next()?).clamp(1, rest.len());
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        Some(chunk)
    })
}

/// Splits `body` at the given cut points, so pieces may end anywhere, even mid-CRLF.
fn split_at_cuts(body: &[u8], cuts: &[usize]) -> Vec<Bytes> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain(std::iter::once(body.len())) {
        pieces.push(Bytes::copy_from_slice(&body[start..cut]));
        start = cut;
    }
    pieces
}

proptest! {
    // Failures are reported, not persisted: regression files would land outside this module.
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn unsigned_bodies_decode_however_split(
        data in proptest::collection::vec(any::<u8>(), 0..2048),
        sizes in proptest::collection::vec(1usize..300, 1..8),
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
        crc in "[A-Za-z0-9+/]{6}==",
    ) {
        let trailers = vec![("x-amz-checksum-crc32".to_owned(), crc.clone())];
        let body = encode_unsigned(&data, &sizes, &trailers);
        let out = run(split_at_cuts(&body, &cuts), unsigned(Some(data.len() as u64)));
        prop_assert!(out.error.is_none(), "{:?}", out.error);
        prop_assert_eq!(&out.data, &data);
        let trailers = out.trailers.expect("one trailer");
        prop_assert_eq!(trailers["x-amz-checksum-crc32"].to_str().expect("ascii"), crc);
    }

    #[test]
    fn signed_bodies_decode_however_split(
        data in proptest::collection::vec(any::<u8>(), 0..2048),
        sizes in proptest::collection::vec(1usize..300, 1..8),
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
    ) {
        let body = encode_signed(&data, &sizes);
        let out = run(split_at_cuts(&body, &cuts), signed(SEED, false, Some(data.len() as u64)));
        prop_assert!(out.error.is_none(), "{:?}", out.error);
        prop_assert_eq!(out.data, data);
    }

    #[test]
    fn any_flipped_byte_of_a_signed_body_is_refused(
        data in proptest::collection::vec(any::<u8>(), 1..512),
        sizes in proptest::collection::vec(1usize..100, 1..4),
        position in any::<usize>(),
        flip in 1u8..=255,
    ) {
        let mut body = encode_signed(&data, &sizes);
        let position = position % body.len();
        let original = body[position];
        // Hex digits may be sent in either case, so changing only their case changes nothing.
        let same_hex = original.is_ascii_hexdigit()
            && (original ^ flip).eq_ignore_ascii_case(&original);
        prop_assume!(!same_hex);
        body[position] ^= flip;
        let out = run(bytewise(&body), signed(SEED, false, None));
        prop_assert!(out.error.is_some(), "flipping byte {} went unnoticed", position);
    }
}
