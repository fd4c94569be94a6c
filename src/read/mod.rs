//! Reading: extracts (formats, encodings, chunks and the reading thread, header aliases) and
//! the reference files (practices, list sizes, exclusions, factor tables).

pub mod columns;
pub mod events;
pub mod extract;
pub mod factors;
pub mod fhir;
pub mod input;
pub mod raw;
pub mod rebase;
pub mod records;
pub mod reference;
pub mod reviews;
