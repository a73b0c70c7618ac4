//! Figures for the people who govern: factsheets per municipality and for the region, over fixed periods, with
//! nobody identifiable. Facts are counted from the store (meeting types the covenant keeps out of statistics never
//! count, not even in totals) and every figure passes [`control::publish`]. May use `types`, `store`, `covenant`
//! and `orgs`.
pub mod control;
