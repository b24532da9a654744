//! Tests (being written)
