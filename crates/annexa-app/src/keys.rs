//! The ledger's signing key: an Ed25519 key in the C2SP signed-note form, in a file the
//! owner alone may read. Created on first use; refused when others can read it.

use crate::{Error, ErrorKind, Result};
use annexa_ledger::checkpoint::hex;
use annexa_ledger::note::NoteSigner;
use std::path::Path;

/// The signing key at `path`, and whether it was just created (when `create` and there was
/// none).
pub fn signer_created(path: &Path, create: bool) -> Result<(NoteSigner, bool)> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mode = std::fs::metadata(path).map_err(|e| Error::io(format!("cannot read the ledger key {}", path.display()), e))?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(Error::forbidden(format!(
                    "the ledger key {} can be read by other users (mode {:o}); run `chmod 600 {}`",
                    path.display(),
                    mode & 0o777,
                    path.display()
                )));
            }
            let signer = NoteSigner::from_skey(&text)
                .map_err(|e| Error::caused(ErrorKind::InvalidInput, format!("the ledger key {} is not a signing key", path.display()), e))?;
            Ok((signer, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let mut seed = [0u8; 32];
            let mut id = [0u8; 8];
            let random = |b: &mut [u8]| getrandom::getrandom(b).map_err(|e| Error::internal(format!("no randomness for a new key: {e}")));
            random(&mut seed)?;
            random(&mut id)?;
            let name = format!("annexa.local/{}", hex(&id));
            let signer = NoteSigner::new(&name, &seed).map_err(|e| Error::caused(ErrorKind::Internal, "cannot make a signing key", e))?;
            let cannot = |e| Error::io(format!("cannot create the ledger key {}", path.display()), e);
            let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(cannot)?;
            writeln!(file, "{}", signer.to_skey()).map_err(cannot)?;
            Ok((signer, true))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(Error::not_found(format!("there is no ledger key {} yet: it is made by the first command that changes something", path.display())))
        }
        Err(e) => Err(Error::io(format!("cannot read the ledger key {}", path.display()), e)),
    }
}

/// The signing key at `path` (created when `create` and there is none).
pub fn signer(path: &Path, create: bool) -> Result<NoteSigner> {
    signer_created(path, create).map(|(s, _)| s)
}
