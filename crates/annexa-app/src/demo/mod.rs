//! The synthetic organisation of `annexa demo`: everyone starts healthy, then chosen
//! people get exactly one problem each, and the generator counts what every check must
//! find. The reference date is fixed ([`AS_OF`]), so the same seed gives the same files and
//! findings on any day.

mod names;
mod org;
mod rng;

pub use org::{generate, DemoFile, DirectoryFormat, Org, Profile, AS_OF};
