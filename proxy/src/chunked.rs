//! aws-chunked decoding.
