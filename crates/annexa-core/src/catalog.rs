//! The ISO/IEC 27001:2022 Annex A control catalog, compiled into the binary.
//!
//! Three tables ship with the crate (copied verbatim from the project's reference data, and
//! a test keeps them equal): the 93 controls with title and theme, the 2013-to-2022
//! correspondence (so an auditor's `A.9.2.6` finds `A.5.18`), and the crosswalk of the
//! identity controls to SOC 2, NIST CSF 2.0 and CIS Controls v8.

use std::sync::OnceLock;

const CONTROLS_TSV: &str = include_str!("../catalog/iso27001-2022-annex-a.tsv");
const MAPPING_TSV: &str = include_str!("../catalog/iso27001-2013-to-2022.tsv");
const CROSSWALK_TSV: &str = include_str!("../catalog/identity-crosswalk.tsv");

/// One Annex A control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    /// `A.5.15`
    pub id: String,
    pub title: String,
    /// Organizational, People, Physical or Technological.
    pub theme: String,
    pub new_in_2022: bool,
    pub iam_relevant: bool,
}

/// One row of the 2013-to-2022 correspondence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping2013 {
    /// `A.9.2.6`
    pub id_2013: String,
    pub title_2013: String,
    /// `A.5.18`
    pub id_2022: String,
    /// equal, subset, superset or intersect (from 2013 to 2022).
    pub relationship: String,
}

/// Where an identity control meets other frameworks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Crosswalk {
    pub soc2: Vec<String>,
    pub nist_csf_2: Vec<String>,
    pub cis_v8: Vec<String>,
    /// H, M or L.
    pub confidence: String,
}

/// The whole catalog.
#[derive(Debug)]
pub struct Catalog {
    controls: Vec<Control>,
    mappings: Vec<Mapping2013>,
    crosswalk: Vec<(String, Crosswalk)>,
}

/// The data rows of a TSV: comment lines and the header skipped.
fn rows(tsv: &str) -> impl Iterator<Item = Vec<&str>> {
    tsv.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .map(|l| l.split('\t').collect())
}

fn field<'a>(row: &[&'a str], i: usize) -> &'a str {
    row.get(i).map(|s| s.trim()).unwrap_or("")
}

fn list(s: &str) -> Vec<String> {
    s.split(';').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// `5.15`, `a.5.15` or `A.5.15` -> `A.5.15`.
pub fn normalise_id(id: &str) -> String {
    let id = id.trim();
    let bare = id.strip_prefix("A.").or_else(|| id.strip_prefix("a.")).unwrap_or(id);
    format!("A.{bare}")
}

impl Catalog {
    /// The compiled-in catalog, parsed once.
    pub fn get() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(Catalog::parse)
    }

    fn parse() -> Catalog {
        let controls = rows(CONTROLS_TSV)
            .map(|r| Control {
                id: field(&r, 1).to_string(),
                title: field(&r, 2).to_string(),
                theme: field(&r, 3).to_string(),
                new_in_2022: field(&r, 4) == "Y",
                iam_relevant: field(&r, 5) == "Y",
            })
            .collect();
        let mappings = rows(MAPPING_TSV)
            .map(|r| Mapping2013 {
                id_2013: field(&r, 0).to_string(),
                title_2013: field(&r, 1).to_string(),
                id_2022: normalise_id(field(&r, 2)),
                relationship: field(&r, 3).to_string(),
            })
            .collect();
        let crosswalk = rows(CROSSWALK_TSV)
            .map(|r| {
                (
                    normalise_id(field(&r, 0)),
                    Crosswalk {
                        soc2: list(field(&r, 1)),
                        nist_csf_2: list(field(&r, 2)),
                        cis_v8: list(field(&r, 3)),
                        confidence: field(&r, 4).to_string(),
                    },
                )
            })
            .collect();
        Catalog { controls, mappings, crosswalk }
    }

    pub fn controls(&self) -> &[Control] {
        &self.controls
    }

    /// The 2022 control with this id (`A.5.15` or `5.15`).
    pub fn control(&self, id: &str) -> Option<&Control> {
        let id = normalise_id(id);
        self.controls.iter().find(|c| c.id == id)
    }

    /// The 2013 controls that map onto a 2022 control.
    pub fn predecessors(&self, id_2022: &str) -> Vec<&Mapping2013> {
        let id = normalise_id(id_2022);
        self.mappings.iter().filter(|m| m.id_2022 == id).collect()
    }

    /// The rows for a 2013 control id (`A.9.2.6`).
    pub fn mappings_from_2013(&self, id_2013: &str) -> Vec<&Mapping2013> {
        let id = normalise_id(id_2013);
        self.mappings.iter().filter(|m| m.id_2013 == id).collect()
    }

    pub fn crosswalk(&self, id: &str) -> Option<&Crosswalk> {
        let id = normalise_id(id);
        self.crosswalk.iter().find(|(c, _)| *c == id).map(|(_, x)| x)
    }

    /// The 2022 controls meant by `query`: a 2022 id, or a 2013 id mapped forward.
    /// Empty when neither matches.
    pub fn resolve(&self, query: &str) -> Vec<&Control> {
        if let Some(c) = self.control(query) {
            return vec![c];
        }
        let mut out: Vec<&Control> = Vec::new();
        for m in self.mappings_from_2013(query) {
            if let Some(c) = self.control(&m.id_2022) {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        out
    }

    /// The distinct themes, in catalog order.
    pub fn themes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in &self.controls {
            if !out.contains(&c.theme.as_str()) {
                out.push(&c.theme);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_93_controls_in_four_themes() {
        let cat = Catalog::get();
        assert_eq!(cat.controls().len(), 93);
        let count = |t: &str| cat.controls().iter().filter(|c| c.theme == t).count();
        assert_eq!(
            (count("Organizational"), count("People"), count("Physical"), count("Technological")),
            (37, 8, 14, 34)
        );
        assert_eq!(cat.control("5.18").map(|c| c.title.as_str()), Some("Access rights"));
        assert_eq!(cat.control("A.8.34").map(|c| c.theme.as_str()), Some("Technological"));
    }

    #[test]
    fn every_mapping_and_crosswalk_row_names_a_real_control() {
        let cat = Catalog::get();
        assert!(cat.mappings.len() >= 114);
        for m in &cat.mappings {
            assert!(cat.control(&m.id_2022).is_some(), "{m:?}");
        }
        for (id, _) in &cat.crosswalk {
            assert!(cat.control(id).is_some(), "{id}");
        }
    }

    #[test]
    fn resolving_2013_ids_and_crosswalks() {
        let cat = Catalog::get();
        let ids = |q: &str| cat.resolve(q).iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids("A.9.2.6"), ["A.5.18"]);
        assert_eq!(ids("A.9.2.3"), ["A.8.2"]);
        assert_eq!(ids("a.5.15"), ["A.5.15"]);
        assert!(ids("A.99.1").is_empty());
        let x = cat.crosswalk("A.5.18").expect("crosswalk");
        assert!(x.soc2.contains(&"CC6.2".to_string()));
        assert!(x.nist_csf_2.contains(&"PR.AA-05".to_string()));
        assert!(!cat.predecessors("A.5.18").is_empty());
    }

    /// The compiled-in copies must equal the project's reference data.
    #[test]
    fn compiled_tables_equal_the_reference() {
        let reference = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference");
        if !reference.exists() {
            assert!(std::env::var("CI").is_err(), "shared/reference missing under CI");
            return;
        }
        for (name, compiled) in [
            ("iso27001-2022-annex-a.tsv", CONTROLS_TSV),
            ("iso27001-2013-to-2022.tsv", MAPPING_TSV),
            ("identity-crosswalk.tsv", CROSSWALK_TSV),
        ] {
            let on_disk = std::fs::read_to_string(reference.join(name)).expect("readable");
            assert_eq!(on_disk, compiled, "{name} differs from shared/reference");
        }
    }
}
