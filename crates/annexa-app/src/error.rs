//! The one error every use case returns, with the kind a front end needs to answer it:
//! the CLI exits 2 for each (and prints the message), the REST API will answer 422, 404,
//! 409, 403 or 500.

use annexa_connect::ImportError;
use std::fmt;

/// What kind of failure: whose fault, and what a client can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is wrong (a file, a parameter, the configuration): fix it and retry.
    InvalidInput,
    /// What was named does not exist.
    NotFound,
    /// It contradicts what is there (a name taken, a state that does not allow it).
    Conflict,
    /// The acting principal may not do it.
    Forbidden,
    /// The database, a file or a connection failed: not the caller's fault.
    Internal,
}

/// A use case's failure: its kind, a message saying what and where, and the cause.
#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    message: String,
    /// For input refused by an importer: the file, line and column.
    pub input: Option<Box<ImportError>>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into(), input: None, source: None }
    }
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidInput, message)
    }
    pub fn not_found(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Conflict, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Forbidden, message)
    }
    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Internal, message)
    }
    /// `message`, caused by `source` (shown after it).
    pub fn caused(kind: ErrorKind, message: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error { kind, message: message.into(), input: None, source: Some(Box::new(source)) }
    }
    /// A file that cannot be read or written.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::caused(ErrorKind::Internal, context, source)
    }
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<ImportError> for Error {
    fn from(e: ImportError) -> Error {
        Error { kind: ErrorKind::InvalidInput, message: e.to_string(), input: Some(Box::new(e)), source: None }
    }
}

impl From<annexa_store::StoreError> for Error {
    fn from(e: annexa_store::StoreError) -> Error {
        use annexa_store::StoreError as S;
        // A store's I/O error comes from the caller's own writer (findings streamed out).
        let e = match e {
            S::Io(io) => return Error::io("writing the output failed", io),
            e => e,
        };
        let kind = match &e {
            S::NotFound(_) => ErrorKind::NotFound,
            S::Conflict(_) => ErrorKind::Conflict,
            S::Url(_) | S::Invalid(_) => ErrorKind::InvalidInput,
            _ => ErrorKind::Internal,
        };
        match kind {
            // Their message is the whole story.
            ErrorKind::NotFound | ErrorKind::Conflict | ErrorKind::InvalidInput => Error::new(kind, e.to_string()),
            _ => Error::caused(kind, "the database failed", e),
        }
    }
}

impl From<annexa_engine::config::ConfigError> for Error {
    fn from(e: annexa_engine::config::ConfigError) -> Error {
        Error::new(ErrorKind::InvalidInput, e.to_string())
    }
}

impl From<annexa_engine::UnknownCheck> for Error {
    fn from(e: annexa_engine::UnknownCheck) -> Error {
        Error::new(ErrorKind::InvalidInput, e.to_string())
    }
}

/// The message of an error and of each cause it does not already repeat, on one line: for
/// logs and the records of failures.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
