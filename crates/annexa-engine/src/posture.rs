//! Measures an audit's [`Posture`]: every enabled interactive account by its strongest
//! factor, and the privileged ones apart (the same privileged accounts
//! `privileged-weak-mfa` judges).

use crate::context::Context;
use annexa_core::model::AccountType;
use annexa_core::posture::Posture;

pub fn measure(ctx: &Context<'_>) -> Posture {
    let mut posture = Posture::default();
    for (i, a) in ctx.graph.accounts.iter().enumerate() {
        if !a.is_enabled() || !a.interactive {
            continue;
        }
        let factors = a.mfa.as_deref();
        posture.accounts.count(factors);
        if a.root || a.kind == AccountType::Admin || ctx.holds_privileged(i) {
            posture.privileged.count(factors);
        }
    }
    posture
}
