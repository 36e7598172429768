//! Reading `annexa.toml`: the file named, else `./annexa.toml` when there is one, else the
//! built-in defaults.

use crate::{Error, Result};
use annexa_engine::config::Config;
use std::path::{Path, PathBuf};

/// The effective configuration and the file it came from (`None`: the built-in defaults).
/// A relative path inside it (a connector's `ca_file`) means next to the file, wherever
/// Annexa runs.
pub fn load(explicit: Option<&Path>) -> Result<(Config, Option<String>)> {
    let path: Option<PathBuf> = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => {
            let default = PathBuf::from("annexa.toml");
            default.exists().then_some(default)
        }
    };
    let Some(path) = path else { return Ok((Config::default(), None)) };
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(format!("cannot read configuration {}", path.display()), e))?;
    let mut config = Config::parse(&path.display().to_string(), &text)?;
    let dir = path.parent().unwrap_or(Path::new(""));
    for c in &mut config.connectors {
        if let Some(file) = c.ca_file.as_mut().filter(|f| Path::new(f.as_str()).is_relative()) {
            *file = dir.join(&*file).display().to_string();
        }
    }
    Ok((config, Some(path.display().to_string())))
}
