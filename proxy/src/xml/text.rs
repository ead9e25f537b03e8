//! The text rules every reader and writer here shares: escaping element text, reading it
//! back, URL-encoded keys and the forms an ETag arrives in.
//!
//! Escaping covers what S3 itself escapes. Control characters, which XML 1.0 cannot carry
//! literally, are written as numeric references the way S3 writes them; clients that care ask
//! for `encoding-type=url` instead.

use std::borrow::Cow;
use std::str::FromStr;

use percent_encoding::percent_decode_str;

use super::error::UpstreamXmlError;
use super::KeyEncoding;

/// How a document spells the double quote inside ETags: S3 writes `&quot;`, rclone `&#34;`,
/// moto a literal `"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QuoteStyle(&'static str);

impl QuoteStyle {
    /// S3's own spelling, used when the upstream's text shows none.
    pub(crate) const ENTITY: Self = Self("&quot;");

    /// The spelling used in `raw`, the undecoded text of an element.
    pub(crate) fn of(raw: &[u8]) -> Self {
        [Self::ENTITY, Self("&#34;"), Self("&#x22;"), Self("\"")]
            .into_iter()
            .find(|style| contains(raw, style.0.as_bytes()))
            .unwrap_or(Self::ENTITY)
    }
}

/// Escapes `text` for element content, spelling `"` as S3 does.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    escape_quoted(text, QuoteStyle::ENTITY)
}

/// Escapes `text` for element content, spelling `"` as `quote` says.
pub(crate) fn escape_quoted(text: &str, quote: QuoteStyle) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str(quote.0),
            '\'' => out.push_str("&apos;"),
            c if is_control(c) => out.push_str(&format!("&#{};", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The text of raw element content: UTF-8 with the predefined and numeric references resolved.
pub(crate) fn unescape(raw: &[u8]) -> Result<Cow<'_, str>, UpstreamXmlError> {
    let text = std::str::from_utf8(raw)
        .map_err(|_| UpstreamXmlError::malformed("element text is not UTF-8"))?;
    quick_xml::escape::unescape(text).map_err(|e| UpstreamXmlError::malformed(e.to_string()))
}

/// A key as the listing spelled it, decoded when the listing is URL-encoded.
///
/// S3 encodes a space as `+` (botocore decodes with `unquote_plus`), so `+` is a space here.
pub(crate) fn decode_key(text: &str, encoding: KeyEncoding) -> Result<String, UpstreamXmlError> {
    match encoding {
        KeyEncoding::None => Ok(text.to_owned()),
        KeyEncoding::Url => {
            let spaced = text.replace('+', " ");
            percent_decode_str(&spaced)
                .decode_utf8()
                .map(Cow::into_owned)
                .map_err(|_| UpstreamXmlError::InvalidValue {
                    element: "Key",
                    value: text.to_owned(),
                })
        }
    }
}

/// The bare value of an ETag, however it was quoted: `"abc"`, `abc`, and, when a client
/// escaped twice, a literal `&quot;abc&quot;` or `&#34;abc&#34;`.
pub fn normalize_etag(etag: &str) -> &str {
    const QUOTES: [&str; 3] = ["\"", "&quot;", "&#34;"];
    let mut bare = etag.trim();
    if let Some(rest) = QUOTES.iter().find_map(|q| bare.strip_prefix(q)) {
        bare = rest;
    }
    if let Some(rest) = QUOTES.iter().find_map(|q| bare.strip_suffix(q)) {
        bare = rest;
    }
    bare
}

/// A decimal number in an element's text, surrounding blanks allowed.
pub(crate) fn parse_number<T: FromStr>(
    element: &'static str,
    text: &str,
) -> Result<T, UpstreamXmlError> {
    let trimmed = text.trim();
    let digits = !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit());
    digits
        .then(|| trimmed.parse().ok())
        .flatten()
        .ok_or_else(|| UpstreamXmlError::InvalidValue {
            element,
            value: text.to_owned(),
        })
}

fn needs_escape(c: char) -> bool {
    matches!(c, '&' | '<' | '>' | '"' | '\'') || is_control(c)
}

/// Characters that do not survive as literal element text: C0 controls except tab and line
/// feed (a parser turns a literal carriage return into a line feed).
fn is_control(c: char) -> bool {
    c < ' ' && c != '\t' && c != '\n'
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("x\r\u{1}y\tz\n"), "x&#13;&#1;y\tz\n");
        assert_eq!(escape_quoted("\"e\"", QuoteStyle("\"")), "\"e\"");
    }

    #[test]
    fn escaped_text_reads_back() {
        let original = "a<b>&\"c' \r\t\n";
        assert_eq!(unescape(escape(original).as_bytes()).unwrap(), original);
    }

    #[test]
    fn finds_the_quote_style() {
        assert_eq!(QuoteStyle::of(b"&quot;abc&quot;"), QuoteStyle::ENTITY);
        assert_eq!(QuoteStyle::of(b"&#34;abc&#34;"), QuoteStyle("&#34;"));
        assert_eq!(QuoteStyle::of(b"\"abc\""), QuoteStyle("\""));
        assert_eq!(QuoteStyle::of(b"abc"), QuoteStyle::ENTITY);
    }

    #[test]
    fn decodes_url_keys_like_botocore() {
        let decoded = decode_key("dir/a+b%26c%2Fd%E2%82%AC.txt", KeyEncoding::Url).unwrap();
        assert_eq!(decoded, "dir/a b&c/d\u{20ac}.txt");
        assert_eq!(decode_key("a+b%2F", KeyEncoding::None).unwrap(), "a+b%2F");
        assert!(decode_key("%FF", KeyEncoding::Url).is_err());
    }

    #[test]
    fn normalizes_every_etag_form() {
        for form in [
            "\"abc\"",
            "abc",
            "&quot;abc&quot;",
            "&#34;abc&#34;",
            " \"abc\" ",
        ] {
            assert_eq!(normalize_etag(form), "abc", "{form}");
        }
        assert_eq!(normalize_etag("\"abc-3\""), "abc-3");
    }
}
