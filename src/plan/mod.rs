//! The plan file: format, loading, validation with source locations.
