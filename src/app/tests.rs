//! Unit tests of the application-protocol decoders.
