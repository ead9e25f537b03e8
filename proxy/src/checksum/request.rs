//! What a request declares about its body's checksums, checked against S3's rules:
//! at most one flexible checksum, given either as a header value or announced as a trailer,
//! and an `x-amz-sdk-checksum-algorithm` that agrees with it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::HeaderMap;

use super::error::ChecksumError;
use super::ChecksumAlgorithm;

/// The flexible checksum a request promises.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DeclaredChecksum {
    /// No flexible checksum.
    #[default]
    None,
    /// The value arrived as a header (decoded digest bytes).
    Header {
        /// The algorithm.
        algorithm: ChecksumAlgorithm,
        /// The decoded digest.
        value: Vec<u8>,
    },
    /// The value will arrive as an aws-chunked trailer (`x-amz-trailer`).
    Trailer {
        /// The algorithm.
        algorithm: ChecksumAlgorithm,
    },
}

impl DeclaredChecksum {
    /// The algorithm, when a checksum is declared.
    pub fn algorithm(&self) -> Option<ChecksumAlgorithm> {
        match self {
            Self::None => None,
            Self::Header { algorithm, .. } | Self::Trailer { algorithm } => Some(*algorithm),
        }
    }
}

/// Reads `x-amz-checksum-<alg>`, `x-amz-trailer` and `x-amz-sdk-checksum-algorithm`.
pub fn declared_checksum(headers: &HeaderMap) -> Result<DeclaredChecksum, ChecksumError> {
    let header = header_checksum(headers)?;
    let trailer = trailer_checksum(headers)?;
    let declared = match (header, trailer) {
        (Some(_), Some(_)) => return Err(ChecksumError::MultipleChecksums),
        (Some((algorithm, value)), None) => DeclaredChecksum::Header { algorithm, value },
        (None, Some(algorithm)) => DeclaredChecksum::Trailer { algorithm },
        (None, None) => DeclaredChecksum::None,
    };
    check_sdk_algorithm(headers, declared.algorithm())?;
    Ok(declared)
}

/// Reads `Content-MD5`: base64 of exactly 16 bytes.
pub fn content_md5(headers: &HeaderMap) -> Result<Option<[u8; 16]>, ChecksumError> {
    let mut values = headers.get_all("content-md5").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ChecksumError::InvalidContentMd5);
    }
    let decoded = STANDARD
        .decode(value.as_bytes())
        .map_err(|_| ChecksumError::InvalidContentMd5)?;
    let digest = decoded
        .try_into()
        .map_err(|_| ChecksumError::InvalidContentMd5)?;
    Ok(Some(digest))
}

/// Decodes a checksum value: base64 of exactly the algorithm's digest length.
pub(crate) fn decode_value(
    algorithm: ChecksumAlgorithm,
    value: &[u8],
    trailing: bool,
) -> Result<Vec<u8>, ChecksumError> {
    let invalid = ChecksumError::InvalidChecksumValue {
        algorithm,
        trailing,
    };
    let decoded = STANDARD.decode(value).map_err(|_| invalid.clone())?;
    if decoded.len() != algorithm.digest_len() {
        return Err(invalid);
    }
    Ok(decoded)
}

/// The one `x-amz-checksum-<alg>` value header, if any. Other `x-amz-checksum-` headers
/// (`-algorithm`, `-type`, `-mode`) are not values and are ignored here.
fn header_checksum(
    headers: &HeaderMap,
) -> Result<Option<(ChecksumAlgorithm, Vec<u8>)>, ChecksumError> {
    let mut found = None;
    for algorithm in ChecksumAlgorithm::ALL {
        for value in headers.get_all(algorithm.header_name()) {
            if found.is_some() {
                return Err(ChecksumError::MultipleChecksums);
            }
            found = Some((algorithm, decode_value(algorithm, value.as_bytes(), false)?));
        }
    }
    Ok(found)
}

/// The checksum announced by `x-amz-trailer`, if any.
fn trailer_checksum(headers: &HeaderMap) -> Result<Option<ChecksumAlgorithm>, ChecksumError> {
    let mut found = None;
    for value in headers.get_all("x-amz-trailer") {
        let text = value
            .to_str()
            .map_err(|_| ChecksumError::UnsupportedTrailer {
                name: String::from_utf8_lossy(value.as_bytes()).into_owned(),
            })?;
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let algorithm = ChecksumAlgorithm::from_header_name(name).ok_or_else(|| {
                ChecksumError::UnsupportedTrailer {
                    name: name.to_owned(),
                }
            })?;
            if found.replace(algorithm).is_some() {
                return Err(ChecksumError::MultipleChecksums);
            }
        }
    }
    Ok(found)
}

fn check_sdk_algorithm(
    headers: &HeaderMap,
    declared: Option<ChecksumAlgorithm>,
) -> Result<(), ChecksumError> {
    let Some(value) = headers.get("x-amz-sdk-checksum-algorithm") else {
        return Ok(());
    };
    let named = value
        .to_str()
        .ok()
        .and_then(ChecksumAlgorithm::from_name)
        .ok_or(ChecksumError::InvalidSdkAlgorithm)?;
    match declared {
        None => Err(ChecksumError::SdkAlgorithmWithoutChecksum),
        Some(algorithm) if algorithm != named => Err(ChecksumError::InvalidSdkAlgorithm),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            let name: http::HeaderName = name.parse().expect("valid name");
            map.append(name, value.parse().expect("valid value"));
        }
        map
    }

    #[test]
    fn a_header_value_is_decoded() {
        let h = headers(&[
            ("x-amz-checksum-crc32", "DUoRhQ=="),
            ("x-amz-sdk-checksum-algorithm", "CRC32"),
            ("x-amz-checksum-type", "FULL_OBJECT"),
        ]);
        let declared = declared_checksum(&h).expect("valid");
        assert_eq!(
            declared,
            DeclaredChecksum::Header {
                algorithm: ChecksumAlgorithm::Crc32,
                value: vec![0x0d, 0x4a, 0x11, 0x85],
            }
        );
    }

    #[test]
    fn a_trailer_is_announced() {
        let h = headers(&[
            ("x-amz-trailer", "x-amz-checksum-crc64nvme"),
            ("x-amz-sdk-checksum-algorithm", "crc64nvme"),
        ]);
        assert_eq!(
            declared_checksum(&h).expect("valid"),
            DeclaredChecksum::Trailer {
                algorithm: ChecksumAlgorithm::Crc64Nvme
            }
        );
        assert_eq!(
            declared_checksum(&HeaderMap::new()),
            Ok(DeclaredChecksum::None)
        );
    }

    #[test]
    fn s3_declaration_rules_are_enforced() {
        let cases: [(&[(&str, &str)], ChecksumError); 7] = [
            (
                &[
                    ("x-amz-checksum-crc32", "DUoRhQ=="),
                    ("x-amz-checksum-sha1", "x"),
                ],
                ChecksumError::MultipleChecksums,
            ),
            (
                &[
                    ("x-amz-checksum-crc32", "DUoRhQ=="),
                    ("x-amz-trailer", "x-amz-checksum-crc32"),
                ],
                ChecksumError::MultipleChecksums,
            ),
            (
                &[(
                    "x-amz-trailer",
                    "x-amz-checksum-crc32, x-amz-checksum-crc32c",
                )],
                ChecksumError::MultipleChecksums,
            ),
            (
                &[
                    ("x-amz-checksum-crc32", "DUoRhQ==="),
                    ("x-amz-sdk-checksum-algorithm", "CRC32"),
                ],
                ChecksumError::InvalidChecksumValue {
                    algorithm: ChecksumAlgorithm::Crc32,
                    trailing: false,
                },
            ),
            (
                &[
                    ("x-amz-trailer", "x-amz-checksum-crc32"),
                    ("x-amz-sdk-checksum-algorithm", "SHA1"),
                ],
                ChecksumError::InvalidSdkAlgorithm,
            ),
            (
                &[("x-amz-sdk-checksum-algorithm", "CRC32")],
                ChecksumError::SdkAlgorithmWithoutChecksum,
            ),
            (
                &[("x-amz-trailer", "x-amz-meta-foo")],
                ChecksumError::UnsupportedTrailer {
                    name: "x-amz-meta-foo".into(),
                },
            ),
        ];
        for (pairs, expected) in cases {
            assert_eq!(
                declared_checksum(&headers(pairs)),
                Err(expected),
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn wrong_length_values_are_invalid() {
        // Valid base64, but 3 bytes rather than CRC32's 4.
        let h = headers(&[("x-amz-checksum-crc32", "AAAA")]);
        assert!(matches!(
            declared_checksum(&h),
            Err(ChecksumError::InvalidChecksumValue { .. })
        ));
    }

    #[test]
    fn content_md5_must_be_16_bytes_of_base64() {
        let h = headers(&[("content-md5", "XrY7u+Ae7tCTyyK7j1rNww==")]);
        let digest = content_md5(&h).expect("valid").expect("present");
        assert_eq!(hex::encode(digest), "5eb63bbbe01eeed093cb22bb8f5acdc3");
        assert_eq!(content_md5(&HeaderMap::new()), Ok(None));
        for bad in [
            "XrY7u+Ae7tCTyyK7j1rN",
            "not base64!",
            "XrY7u+Ae7tCTyyK7j1rNwwAA",
        ] {
            let h = headers(&[("content-md5", bad)]);
            assert_eq!(
                content_md5(&h),
                Err(ChecksumError::InvalidContentMd5),
                "{bad}"
            );
        }
    }
}
