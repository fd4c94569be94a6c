//! Writing outputs: one declaration of each output's columns, used by every format.

pub mod manifest;
pub mod patients;
pub mod summary;
pub mod terminal;
