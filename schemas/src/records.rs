//! Typed records, one module per topic family.

mod block;

pub use block::FinalizedBlock;
