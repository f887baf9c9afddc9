//! Call statistics (filled in below).
