//! SigV2 verification tests.
