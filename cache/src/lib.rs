//! kctx's cache of imported traces: memory-mapped raw column files with a versioned header,
//! validated before use (no serializer: the columns are written and mapped as they are).

pub mod column_file;
pub mod store_file;
