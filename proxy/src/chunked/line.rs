//! The two kinds of line in an aws-chunked body: chunk headers and trailer fields.

use super::error::ChunkedError;

/// The longest line accepted; a real chunk header is under 100 bytes.
pub(crate) const MAX_LINE: usize = 4096;

/// A parsed `hex-size[;chunk-signature=<64 hex>]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChunkHeader {
    pub size: u64,
    pub signature: Option<[u8; 64]>,
}

/// Parses a chunk header line (without its CRLF). Hex digits may be either case: the Rust
/// SDK has written sizes in uppercase.
pub(crate) fn parse_chunk_header(line: &[u8]) -> Result<ChunkHeader, ChunkedError> {
    let malformed = |reason| ChunkedError::MalformedChunk { reason };
    let (size, extension) = match line.iter().position(|&b| b == b';') {
        Some(at) => (&line[..at], Some(&line[at + 1..])),
        None => (line, None),
    };
    if size.is_empty() || size.len() > 16 || !size.iter().all(u8::is_ascii_hexdigit) {
        return Err(malformed("the chunk size is not 1 to 16 hex digits"));
    }
    let size = size
        .iter()
        .fold(0u64, |acc, &b| (acc << 4) | u64::from(hex_value(b)));

    let signature = match extension {
        None => None,
        Some(ext) => {
            let value = ext.strip_prefix(b"chunk-signature=").ok_or(malformed(
                "the only chunk extension allowed is chunk-signature",
            ))?;
            let signature: [u8; 64] = value
                .try_into()
                .map_err(|_| malformed("chunk-signature is not 64 hex digits"))?;
            Some(signature)
        }
    };
    Ok(ChunkHeader { size, signature })
}

/// Parses a `name:value` trailer line into a lowercase name and a trimmed value.
pub(crate) fn parse_trailer(line: &[u8]) -> Result<(String, String), ChunkedError> {
    let malformed = |reason| ChunkedError::MalformedTrailer { reason };
    let at = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(malformed("a trailer line has no ':'"))?;
    let (name, value) = (&line[..at], &line[at + 1..]);
    let token = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    if name.is_empty() || !name.iter().all(token) {
        return Err(malformed("a trailer name is empty or not a header token"));
    }
    let value = std::str::from_utf8(value)
        .map_err(|_| malformed("a trailer value is not UTF-8"))?
        .trim_matches([' ', '\t']);
    let name = String::from_utf8_lossy(name).to_ascii_lowercase();
    Ok((name, value.to_owned()))
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_either_case() {
        assert_eq!(parse_chunk_header(b"10000").expect("valid").size, 65_536);
        assert_eq!(parse_chunk_header(b"B").expect("valid").size, 11);
        assert_eq!(parse_chunk_header(b"b").expect("valid").size, 11);
        assert_eq!(parse_chunk_header(b"0").expect("valid").size, 0);
        assert_eq!(
            parse_chunk_header(b"ffffffffffffffff").expect("valid").size,
            u64::MAX
        );
    }

    #[test]
    fn signature_extension_is_read() {
        let line = format!("400;chunk-signature={}", "ab".repeat(32));
        let header = parse_chunk_header(line.as_bytes()).expect("valid");
        assert_eq!(header.size, 1024);
        assert_eq!(
            header.signature.expect("present").as_slice(),
            "ab".repeat(32).as_bytes()
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        let bad: [&[u8]; 7] = [
            b"",
            b"xyz",
            b"10000000000000000",
            b" 10",
            b"10;chunk-signature=abc",
            b"10;foo=bar",
            b"-1",
        ];
        for line in bad {
            assert!(parse_chunk_header(line).is_err(), "{line:?}");
        }
    }

    #[test]
    fn trailers_are_lowercased_and_trimmed() {
        let (name, value) = parse_trailer(b"X-Amz-Checksum-CRC32: DUoRhQ== ").expect("valid");
        assert_eq!(name, "x-amz-checksum-crc32");
        assert_eq!(value, "DUoRhQ==");
        assert!(parse_trailer(b":value").is_err());
        assert!(parse_trailer(b"no colon").is_err());
        assert!(parse_trailer(b"bad name:v").is_err());
    }
}
