//! Envelope.
