//! How strongly an organisation's accounts authenticate, as one audit measured it: the path
//! from passwords to phishing-resistant MFA (A.5.17, A.8.5), overall and for privileged
//! accounts. Kept with each audit run, so that it can be followed over time and so that
//! risks can be tied to it.

use crate::model::MfaFactor;
use serde::{Deserialize, Serialize};

/// Enabled interactive accounts by their strongest second factor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strength {
    pub total: u64,
    /// The source does not say which factors the account has.
    pub unknown: u64,
    /// A password only.
    pub none: u64,
    /// SMS or e-mail codes.
    pub sms: u64,
    /// A second factor the source does not name (Google 2SV, GitHub 2FA).
    pub unspecified: u64,
    pub totp: u64,
    pub push: u64,
    /// FIDO2 / WebAuthn, smart cards.
    pub phishing_resistant: u64,
}

impl Strength {
    /// Counts one account with these factors (`None`: not known).
    pub fn count(&mut self, factors: Option<&[MfaFactor]>) {
        self.total += 1;
        let Some(factors) = factors else {
            self.unknown += 1;
            return;
        };
        let rank = |f: &MfaFactor| match f {
            MfaFactor::None => 0,
            MfaFactor::Sms | MfaFactor::Email => 1,
            MfaFactor::Unspecified => 2,
            MfaFactor::Totp => 3,
            MfaFactor::Push => 4,
            MfaFactor::Webauthn => 5,
        };
        match factors.iter().map(rank).max().unwrap_or(0) {
            0 => self.none += 1,
            1 => self.sms += 1,
            2 => self.unspecified += 1,
            3 => self.totp += 1,
            4 => self.push += 1,
            _ => self.phishing_resistant += 1,
        }
    }

    /// Accounts whose factors are known.
    pub fn known(&self) -> u64 {
        self.total - self.unknown
    }
}

/// What an audit measured of authentication strength.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posture {
    /// Every enabled interactive account.
    pub accounts: Strength,
    /// Those that are privileged: cloud root, admin accounts, holders of a privileged
    /// entitlement.
    pub privileged: Strength,
}
