//! The Annexa domain model, with no I/O.
//!
//! Everything Annexa knows about an organisation's identity surface is expressed in the
//! types here: [`model::Person`] (the workforce identity from HR), [`model::Account`] (a
//! login in a system), [`model::Entitlement`] and [`model::Assignment`] (who holds what),
//! [`model::Badge`] (physical access), and the [`finding::Finding`] a control check raises.
//! The ISO/IEC 27001:2022 Annex A catalog, its 2013 mapping and the identity crosswalk are
//! compiled in ([`catalog`]).
//!
//! This crate never touches a file, a socket or a database: importers (`annexa-connect`)
//! produce these types, the store (`annexa-store`) persists them, and the engine
//! (`annexa-engine`) reasons over them. Keeping it pure makes the checks fast to test.
//!
//! ```
//! use annexa_core::catalog::Catalog;
//! let catalog = Catalog::get();
//! assert_eq!(catalog.controls().len(), 93);
//! let found = catalog.resolve("A.9.2.6");
//! assert_eq!(found[0].id, "A.5.18");
//! ```

pub mod campaign;
pub mod catalog;
pub mod finding;
pub mod graph;
pub mod json;
pub mod key;
pub mod model;
pub mod posture;
pub mod risk;
pub mod soa;
pub mod text;
pub mod time;

/// A shared, cheaply cloned name: system names, account ids and entitlement names repeat
/// across millions of assignments, so loaders intern them.
pub type Name = std::sync::Arc<str>;

/// Lower-case hex of a byte slice (SHA-256 digests in evidence and finding ids).
pub fn to_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    out
}

/// Appends `bytes` in lower-case hex to `out`.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
}
