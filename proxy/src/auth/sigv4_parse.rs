//! Parsing of SigV4 claims: the Authorization header and the presigned query parameters.

use super::encoding::{query_param, Plus};
use super::signing_key::Scope;

/// The algorithm name of SigV4 with HMAC-SHA256.
pub(crate) const HMAC_ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The algorithm name of SigV4a, which is recognised only to be refused.
pub(crate) const ECDSA_ALGORITHM: &str = "AWS4-ECDSA-P256-SHA256";

/// What a SigV4 request claims about its own signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claim {
    pub access_key_id: String,
    pub scope: Scope,
    pub signed_headers: String,
    pub signature: String,
}

/// The presigned parameters beyond the claim itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PresignParams {
    pub claim: Claim,
    pub timestamp: String,
    pub expires: String,
    pub content_sha256: Option<String>,
}

/// Parses `Credential=…, SignedHeaders=…, Signature=…`, the part after the algorithm name.
///
/// botocore separates the components with `", "`, boto2 (and so gsutil) with `","`.
pub(crate) fn parse_header_components(rest: &str) -> Result<Claim, &'static str> {
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for component in rest.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let (key, value) = component
            .split_once('=')
            .ok_or("a component is not of the form key=value")?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return Err("unknown component in the Authorization header"),
        };
        if slot.replace(value).is_some() {
            return Err("a component appears twice");
        }
    }
    let (access_key_id, scope) = parse_credential(credential.ok_or("Credential is missing")?)?;
    Ok(Claim {
        access_key_id,
        scope,
        signed_headers: signed_headers.ok_or("SignedHeaders is missing")?.to_owned(),
        signature: signature.ok_or("Signature is missing")?.to_owned(),
    })
}

/// Parses the `X-Amz-*` presigned parameters (the algorithm has already been checked).
pub(crate) fn parse_presign_params(raw_query: &str) -> Result<PresignParams, &'static str> {
    let param = |name, missing| {
        let value = query_param(raw_query, name, Plus::Space).ok_or(missing)?;
        String::from_utf8(value).map_err(|_| "a parameter is not UTF-8")
    };
    let credential = param("X-Amz-Credential", "X-Amz-Credential is missing")?;
    let (access_key_id, scope) = parse_credential(&credential)?;
    let claim = Claim {
        access_key_id,
        scope,
        signed_headers: param("X-Amz-SignedHeaders", "X-Amz-SignedHeaders is missing")?,
        signature: param("X-Amz-Signature", "X-Amz-Signature is missing")?,
    };
    Ok(PresignParams {
        claim,
        timestamp: param("X-Amz-Date", "X-Amz-Date is missing")?,
        expires: param("X-Amz-Expires", "X-Amz-Expires is missing")?,
        content_sha256: param("X-Amz-Content-Sha256", "").ok(),
    })
}

/// Splits `<AKID>/<YYYYMMDD>/<region>/<service>/aws4_request`.
///
/// Any region is accepted, including an empty one (rclone) and `auto` (R2 and GCS clients):
/// the signature is verified against whatever the client put in its scope.
fn parse_credential(credential: &str) -> Result<(String, Scope), &'static str> {
    let fields: Vec<&str> = credential.split('/').collect();
    let [akid, date, region, service, terminal] = fields[..] else {
        return Err("Credential must have five '/'-separated fields");
    };
    if akid.is_empty() {
        return Err("the access key id is empty");
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the credential date must be YYYYMMDD");
    }
    if service != "s3" {
        return Err("the credential scope must name the s3 service");
    }
    if terminal != "aws4_request" {
        return Err("the credential scope must end in aws4_request");
    }
    let scope = Scope {
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
    };
    Ok((akid.to_owned(), scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPONENTS: [&str; 3] = [
        "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request",
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date",
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    ];

    #[test]
    fn both_separators_parse_alike() {
        let spaced = parse_header_components(&COMPONENTS.join(", ")).expect("botocore form");
        let tight = parse_header_components(&COMPONENTS.join(",")).expect("boto2 form");
        assert_eq!(spaced, tight);
        assert_eq!(spaced.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(spaced.scope.region, "us-east-1");
        assert_eq!(
            spaced.signed_headers,
            "host;range;x-amz-content-sha256;x-amz-date"
        );
    }

    #[test]
    fn any_region_is_accepted() {
        for region in ["", "auto", "eu-central-1", "garage"] {
            let text = format!(
                "Credential=AK/20240101/{region}/s3/aws4_request,SignedHeaders=host,Signature=00"
            );
            let claim = parse_header_components(&text).expect("accepted");
            assert_eq!(claim.scope.region, region);
        }
    }

    #[test]
    fn malformed_components_are_refused() {
        let cases = [
            "Credential=AK/20240101/r/s3/aws4_request, SignedHeaders=host",
            "Credential=AK/20240101/r/ec2/aws4_request, SignedHeaders=host, Signature=00",
            "Credential=AK/2024011/r/s3/aws4_request, SignedHeaders=host, Signature=00",
            "Credential=AK/20240101/r/s3, SignedHeaders=host, Signature=00",
            "Credential=AK/20240101/r/s3/aws4_request, SignedHeaders=host, Signature=00, Signature=01",
            "Credential=AK/20240101/r/s3/aws4_request, Foo=1, SignedHeaders=host, Signature=00",
            "Credential",
        ];
        for case in cases {
            assert!(parse_header_components(case).is_err(), "{case}");
        }
    }

    #[test]
    fn presign_params_are_decoded() {
        let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256\
            &X-Amz-Credential=AKID%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
            &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
            &X-Amz-Signature=abc";
        let params = parse_presign_params(query).expect("complete");
        assert_eq!(params.claim.access_key_id, "AKID");
        assert_eq!(params.expires, "86400");
        assert_eq!(params.content_sha256, None);
        let missing = query.replace("&X-Amz-Expires=86400", "");
        assert_eq!(
            parse_presign_params(&missing),
            Err("X-Amz-Expires is missing")
        );
    }
}
