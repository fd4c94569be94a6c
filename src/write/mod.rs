//! Writing outputs: one declaration of each output's columns, used by every format.

pub mod answers;
pub mod audit;
pub mod catalogue;
pub mod cells;
pub mod chart;
pub mod columns;
pub mod epd;
pub mod epd_report;
pub mod epd_trend;
pub mod items;
pub mod manifest;
pub mod markup;
pub mod names;
pub mod outdir;
pub mod output;
pub mod packs;
pub mod patients;
pub mod report;
pub mod summary;
pub mod table;
pub mod terminal;
pub mod trend;
pub mod xlsx;
