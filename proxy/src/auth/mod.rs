//! SigV4 / SigV2 verification.
