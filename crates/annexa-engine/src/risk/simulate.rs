//! Monte Carlo quantification of the register: for each simulated year and each risk, a
//! rate of events drawn from the risk's frequency range, a Poisson number of events at that
//! rate, and a loss drawn for each event (PERT or lognormal). A year's loss is the sum, so
//! a year may hold several events or none; the portfolio's loss is the sum over risks of
//! the same year.
//!
//! Reproducible bit for bit: every risk draws from its own ChaCha20 stream (the seed, and
//! the risk's number as the stream), so a risk's losses depend on the seed and its own
//! inputs only, whatever else is in the register and however the work is split across
//! threads. Risks are independent unless `[risk] correlations` ties their rates together:
//! then each year's rate quantiles come from a Gaussian copula, a factor shared by the
//! group (its own stream) mixed with each risk's own draw.

use annexa_core::risk::{LossShape, Quantification};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rand_distr::{Distribution, LogNormal, Pert, Poisson, StandardNormal};
use serde::Serialize;

/// The generator and distributions, as recorded with every result.
pub const GENERATOR: &str = "ChaCha20Rng (rand_chacha 0.9) seeded from the seed, one stream per risk (its number); rand_distr 0.5 Poisson, PERT, LogNormal; rates uniform in their range, Gaussian copula for correlated rates";

/// The most iterations one simulation may run.
pub const MAX_ITERATIONS: u32 = 10_000_000;

/// A risk as the simulation sees it.
#[derive(Debug, Clone, Serialize)]
pub struct SimRisk {
    pub id: i64,
    pub label: String,
    pub title: String,
    /// Events a year, the driver's value already applied.
    pub rate_low: f64,
    pub rate_high: f64,
    pub loss_low: f64,
    pub loss_high: f64,
    pub loss_most_likely: Option<f64>,
    pub shape: LossShape,
}

impl SimRisk {
    /// A quantified risk, its frequency scaled by its driver's value (1 without one).
    pub fn new(id: i64, title: &str, q: &Quantification, driver_value: f64) -> SimRisk {
        SimRisk {
            id,
            label: annexa_core::risk::risk_label(id),
            title: title.to_string(),
            rate_low: q.frequency_low * driver_value,
            rate_high: q.frequency_high * driver_value,
            loss_low: q.loss_low,
            loss_high: q.loss_high,
            loss_most_likely: q.loss_most_likely,
            shape: q.shape,
        }
    }
}

/// Risks whose rates move together.
#[derive(Debug, Clone, Serialize)]
pub struct Correlated {
    /// Risk numbers.
    pub risks: Vec<i64>,
    pub rho: f64,
}

/// What to simulate: everything the result depends on.
#[derive(Debug, Clone, Serialize)]
pub struct Simulation {
    pub seed: u64,
    pub iterations: u32,
    pub risks: Vec<SimRisk>,
    pub correlations: Vec<Correlated>,
}

/// The distribution of a year's loss.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct LossSummary {
    /// `R-3`, or `portfolio`.
    pub label: String,
    pub title: String,
    /// Annualised loss expectancy: the mean annual loss.
    pub ale: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    /// The Monte Carlo standard error of the ALE (standard deviation / √iterations).
    pub std_error: f64,
    /// The share of years with any loss.
    pub p_any_loss: f64,
    /// The loss-exceedance curve: (loss, probability that a year's loss reaches it).
    pub curve: Vec<(f64, f64)>,
}

/// The result: one summary per risk, in the order given, and the portfolio's.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Outcome {
    pub risks: Vec<LossSummary>,
    pub portfolio: LossSummary,
}

/// Why a simulation cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SimulationError(pub String);

/// Runs the simulation on up to `threads` threads (the result does not depend on it).
pub fn run(sim: &Simulation, threads: usize) -> Result<Outcome, SimulationError> {
    if sim.iterations == 0 || sim.iterations > MAX_ITERATIONS {
        return Err(SimulationError(format!("{} iterations: expected 1 to {MAX_ITERATIONS}", sim.iterations)));
    }
    if sim.risks.is_empty() {
        return Err(SimulationError("no quantified risk to simulate: give risks a frequency and a loss range (`annexa risk edit R-1 --frequency 0.1-0.5 --loss 10000-200000`)".into()));
    }
    let mut group_of = vec![None; sim.risks.len()];
    for (g, c) in sim.correlations.iter().enumerate() {
        for id in &c.risks {
            let i = sim.risks.iter().position(|r| r.id == *id);
            let Some(i) = i else { return Err(SimulationError(format!("correlation names R-{id}, which has no quantification"))) };
            if group_of[i].is_some() {
                return Err(SimulationError(format!("R-{id} is in two correlations: a risk may be in one")));
            }
            group_of[i] = Some((g, c.rho));
        }
    }
    let models: Vec<LossModel> = sim.risks.iter().map(LossModel::new).collect::<Result<_, _>>()?;
    let threads = threads.clamp(1, sim.risks.len());
    let mut years: Vec<Vec<f64>> = vec![Vec::new(); sim.risks.len()];
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let models = &models;
                let group_of = &group_of;
                scope.spawn(move || {
                    (t..sim.risks.len())
                        .step_by(threads)
                        .map(|i| (i, simulate_risk(sim, &sim.risks[i], &models[i], group_of[i])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            // A simulation thread does not panic: its draws are from validated
            // distributions. Should one, its risks stay empty and are reported as an error.
            if let Ok(done) = h.join() {
                for (i, y) in done {
                    years[i] = y;
                }
            }
        }
    });
    if years.iter().any(Vec::is_empty) {
        return Err(SimulationError("a simulation thread failed".into()));
    }
    let n = sim.iterations as usize;
    let mut portfolio = vec![0.0; n];
    for y in &years {
        for (p, x) in portfolio.iter_mut().zip(y) {
            *p += x;
        }
    }
    let risks = sim.risks.iter().zip(years).map(|(r, y)| summarise(&r.label, &r.title, y)).collect();
    Ok(Outcome { risks, portfolio: summarise("portfolio", "All quantified risks", portfolio) })
}

enum LossModel {
    Pert(Pert<f64>),
    Lognormal(LogNormal<f64>),
}

impl LossModel {
    fn new(r: &SimRisk) -> Result<LossModel, SimulationError> {
        let bad = |e: String| SimulationError(format!("{}: {e}", r.label));
        match r.shape {
            LossShape::Pert => {
                let mode = r.loss_most_likely.unwrap_or_else(|| (r.loss_low * r.loss_high).sqrt());
                Pert::new(r.loss_low, r.loss_high).with_mode(mode).map(LossModel::Pert).map_err(|e| bad(e.to_string()))
            }
            LossShape::Lognormal => {
                // The range's ends are the 5th and 95th percentiles: z = 1.6449.
                let (lo, hi) = (r.loss_low.ln(), r.loss_high.ln());
                LogNormal::new((lo + hi) / 2.0, (hi - lo) / (2.0 * 1.644_853_626_951_472_2))
                    .map(LossModel::Lognormal)
                    .map_err(|e| bad(e.to_string()))
            }
        }
    }

    fn sample(&self, rng: &mut ChaCha20Rng) -> f64 {
        match self {
            LossModel::Pert(d) => d.sample(rng),
            LossModel::Lognormal(d) => d.sample(rng),
        }
    }
}

fn stream(seed: u64, stream: u64) -> ChaCha20Rng {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// One risk's annual losses, one per iteration.
fn simulate_risk(sim: &Simulation, r: &SimRisk, model: &LossModel, group: Option<(usize, f64)>) -> Vec<f64> {
    let mut rng = stream(sim.seed, r.id as u64);
    // A correlation group's shared factor: the same sequence for every member.
    let mut shared = group.map(|(g, rho)| (stream(sim.seed, u64::MAX - g as u64), rho));
    let mut out = Vec::with_capacity(sim.iterations as usize);
    for _ in 0..sim.iterations {
        let u: f64 = match &mut shared {
            None => rng.random(),
            Some((common, rho)) => {
                let z_common: f64 = StandardNormal.sample(common);
                let z_own: f64 = StandardNormal.sample(&mut rng);
                normal_cdf(rho.sqrt() * z_common + (1.0 - *rho).sqrt() * z_own)
            }
        };
        let rate = r.rate_low + u * (r.rate_high - r.rate_low);
        let events = if rate > 0.0 {
            match Poisson::new(rate) {
                Ok(p) => p.sample(&mut rng) as u64,
                Err(_) => 0,
            }
        } else {
            0
        };
        let mut loss = 0.0;
        for _ in 0..events {
            loss += model.sample(&mut rng);
        }
        out.push(loss);
    }
    out
}

/// The standard normal CDF, through erfc (W. J. Cody's rational approximation as given in
/// Numerical Recipes' `erfcc`, relative error under 1.2e-7: ample for a copula).
fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07 + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    if x >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

const CURVE_POINTS: usize = 32;

fn summarise(label: &str, title: &str, mut years: Vec<f64>) -> LossSummary {
    let n = years.len() as f64;
    let mean = years.iter().sum::<f64>() / n;
    let variance = if years.len() > 1 { years.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    years.sort_by(f64::total_cmp);
    // Nearest rank: the smallest value with at least p of the years at or below it.
    let pct = |p: f64| years[((p * n).ceil() as usize).clamp(1, years.len()) - 1];
    let positive = years.partition_point(|x| *x <= 0.0);
    let mut curve = Vec::new();
    if positive < years.len() {
        let (lo, hi) = (years[positive], years[years.len() - 1]);
        for k in 0..CURVE_POINTS {
            let x = if hi > lo { lo * (hi / lo).powf(k as f64 / (CURVE_POINTS - 1) as f64) } else { lo };
            let at_or_above = years.len() - years.partition_point(|y| *y < x);
            curve.push((x, at_or_above as f64 / n));
        }
    }
    LossSummary {
        label: label.to_string(),
        title: title.to_string(),
        ale: mean,
        p10: pct(0.10),
        p50: pct(0.50),
        p90: pct(0.90),
        p99: pct(0.99),
        std_error: (variance / n).sqrt(),
        p_any_loss: (years.len() - positive) as f64 / n,
        curve,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn risk(id: i64, rate: (f64, f64), loss: (f64, f64), shape: LossShape) -> SimRisk {
        SimRisk {
            id,
            label: format!("R-{id}"),
            title: String::new(),
            rate_low: rate.0,
            rate_high: rate.1,
            loss_low: loss.0,
            loss_high: loss.1,
            loss_most_likely: None,
            shape,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_bits_whatever_the_threads_and_the_other_risks() {
        let a = risk(1, (0.5, 2.0), (10_000.0, 200_000.0), LossShape::Lognormal);
        let b = risk(2, (0.1, 0.3), (50_000.0, 900_000.0), LossShape::Pert);
        let sim = Simulation { seed: 42, iterations: 20_000, risks: vec![a.clone(), b], correlations: vec![] };
        let one = run(&sim, 1).expect("runs");
        let two = run(&sim, 2).expect("runs");
        assert_eq!(one, two);
        let alone = run(&Simulation { risks: vec![a], ..sim.clone() }, 1).expect("runs");
        assert_eq!(alone.risks[0], one.risks[0], "a risk's losses do not depend on the others");
        let other = run(&Simulation { seed: 43, ..sim }, 2).expect("runs");
        assert_ne!(other.risks[0].ale, one.risks[0].ale);
    }

    #[test]
    fn the_ale_matches_the_analytic_mean() {
        // Rate uniform in 1..3 (mean 2); lognormal loss with 5th/95th percentiles 10k/100k:
        // mean = exp(mu + sigma²/2).
        let r = risk(7, (1.0, 3.0), (10_000.0, 100_000.0), LossShape::Lognormal);
        let out = run(&Simulation { seed: 1, iterations: 200_000, risks: vec![r], correlations: vec![] }, 2).expect("runs");
        let (lo, hi) = (10_000f64.ln(), 100_000f64.ln());
        let sigma = (hi - lo) / (2.0 * 1.644_853_626_951_472_2);
        let expected = 2.0 * ((lo + hi) / 2.0 + sigma * sigma / 2.0).exp();
        let s = &out.risks[0];
        assert!((s.ale - expected).abs() < 4.0 * s.std_error, "ALE {} vs {expected} (se {})", s.ale, s.std_error);
        assert!(s.p10 <= s.p50 && s.p50 <= s.p90 && s.p90 <= s.p99);
        // P(no event) = E[exp(-rate)] = (e^-1 - e^-3) / 2.
        let p_none = ((-1f64).exp() - (-3f64).exp()) / 2.0;
        assert!((s.p_any_loss - (1.0 - p_none)).abs() < 0.005, "{}", s.p_any_loss);
        assert!(s.curve.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 >= w[1].1), "the curve falls");
        assert_eq!(out.portfolio.ale, s.ale);
    }

    #[test]
    fn independent_risks_do_not_always_strike_together_and_correlated_ones_do_more_often() {
        let a = risk(1, (0.0, 1.0), (10_000.0, 20_000.0), LossShape::Lognormal);
        let b = risk(2, (0.0, 1.0), (10_000.0, 20_000.0), LossShape::Lognormal);
        // The years of each risk rebuilt from their streams, to count years with both losses.
        let both = |sim: &Simulation| {
            let models: Vec<LossModel> = sim.risks.iter().map(|r| LossModel::new(r).expect("model")).collect();
            let groups: Vec<Option<(usize, f64)>> = sim
                .risks
                .iter()
                .map(|r| sim.correlations.iter().position(|c| c.risks.contains(&r.id)).map(|g| (g, sim.correlations[g].rho)))
                .collect();
            let ya = simulate_risk(sim, &sim.risks[0], &models[0], groups[0]);
            let yb = simulate_risk(sim, &sim.risks[1], &models[1], groups[1]);
            ya.iter().zip(&yb).filter(|(x, y)| **x > 0.0 && **y > 0.0).count()
        };
        let independent = Simulation { seed: 9, iterations: 50_000, risks: vec![a, b], correlations: vec![] };
        let correlated = Simulation { correlations: vec![Correlated { risks: vec![1, 2], rho: 0.9 }], ..independent.clone() };
        let out_i = run(&independent, 2).expect("runs");
        run(&correlated, 2).expect("a correlated simulation runs");
        let (ji, jc) = (both(&independent), both(&correlated));
        let pa = out_i.risks[0].p_any_loss;
        assert!(ji < 50_000 / 2, "independent risks strike together in some years only");
        assert!(((ji as f64 / 50_000.0) - pa * pa).abs() < 0.01, "joint {ji} vs {pa}²");
        assert!(jc as f64 > ji as f64 * 1.1, "correlated {jc} vs independent {ji}");
    }

    #[test]
    fn bad_simulations_are_refused() {
        let r = risk(1, (0.1, 0.2), (10.0, 20.0), LossShape::Pert);
        let sim = Simulation { seed: 1, iterations: 0, risks: vec![r.clone()], correlations: vec![] };
        assert!(run(&sim, 1).is_err());
        let sim = Simulation { seed: 1, iterations: 10, risks: vec![], correlations: vec![] };
        assert!(run(&sim, 1).unwrap_err().0.starts_with("no quantified risk"));
        let sim = Simulation { seed: 1, iterations: 10, risks: vec![r], correlations: vec![Correlated { risks: vec![1, 5], rho: 0.5 }] };
        assert_eq!(run(&sim, 1).unwrap_err().0, "correlation names R-5, which has no quantification");
    }

    #[test]
    fn normal_cdf_is_accurate() {
        for (x, p) in [(0.0, 0.5), (1.0, 0.841_344_746), (-1.959_963_985, 0.025), (3.0, 0.998_650_102)] {
            assert!((normal_cdf(x) - p).abs() < 1e-6, "{x}");
        }
    }
}
