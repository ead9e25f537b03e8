//! SigV4 verification tests.
