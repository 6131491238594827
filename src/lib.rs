//! freshet
