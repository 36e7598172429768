//! Charts as inline SVG, written directly: deterministic text (the same values give the same
//! bytes, so a report can be hashed and tested), no script, no font or image to fetch, and
//! each chart titled and described for screen readers.

use crate::soa::escape;
use std::fmt::Write;

/// A segment of a stacked bar.
#[derive(Debug, Clone)]
pub struct Segment {
    pub name: String,
    pub value: f64,
    pub colour: &'static str,
}

/// Horizontal bars of segments, each bar scaled to its own total (shares), with a legend.
pub fn stacked_shares(title: &str, bars: &[(String, Vec<Segment>)]) -> String {
    let (label_w, bar_w, row_h) = (170.0, 460.0, 26.0);
    let legend: Vec<(&str, &str)> = {
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for (_, segs) in bars {
            for s in segs {
                if !seen.iter().any(|(n, _)| *n == s.name) {
                    seen.push((&s.name, s.colour));
                }
            }
        }
        seen
    };
    let height = row_h * bars.len() as f64 + 40.0;
    let mut out = open(title, label_w + bar_w + 70.0, height);
    for (i, (label, segs)) in bars.iter().enumerate() {
        let y = 6.0 + i as f64 * row_h;
        let total: f64 = segs.iter().map(|s| s.value).sum();
        let _ = write!(out, "<text x=\"0\" y=\"{:.1}\" font-size=\"12\">{}</text>", y + 14.0, escape(label));
        let mut x = label_w;
        for s in segs {
            if total <= 0.0 || s.value <= 0.0 {
                continue;
            }
            let w = bar_w * s.value / total;
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"18\" fill=\"{}\"><title>{}: {} ({:.0} %)</title></rect>",
                s.colour,
                escape(&s.name),
                s.value,
                100.0 * s.value / total
            );
            x += w;
        }
        let _ = write!(out, "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>", label_w + bar_w + 6.0, y + 14.0, total);
    }
    let mut x = 0.0;
    let y = 6.0 + bars.len() as f64 * row_h + 10.0;
    for (name, colour) in legend {
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>",
            y,
            x + 14.0,
            y + 9.0,
            escape(name)
        );
        x += 24.0 + 6.5 * name.chars().count() as f64;
    }
    out.push_str("</svg>");
    out
}

/// A line per series over shared x positions: `points` are (x label, value).
pub fn lines(title: &str, x_labels: &[String], series: &[(String, &'static str, Vec<f64>)]) -> String {
    let (w, h, left, bottom) = (640.0, 220.0, 50.0, 40.0);
    let max = series.iter().flat_map(|(_, _, v)| v.iter().copied()).fold(0.0_f64, f64::max).max(1.0);
    let n = x_labels.len().max(1);
    let step = if n > 1 { (w - left - 20.0) / (n - 1) as f64 } else { 0.0 };
    let y_of = |v: f64| 10.0 + (h - bottom - 10.0) * (1.0 - v / max);
    let mut out = open(title, w, h);
    let _ = write!(out, "<line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#888\"/>", h - bottom, w - 10.0, h - bottom);
    let _ = write!(
        out,
        "<text x=\"0\" y=\"16\" font-size=\"11\">{}</text><text x=\"0\" y=\"{:.1}\" font-size=\"11\">0</text>",
        fmt(max),
        h - bottom
    );
    for (i, label) in x_labels.iter().enumerate() {
        let x = left + step * i as f64;
        let _ = write!(
            out,
            "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            h - bottom + 14.0,
            escape(label)
        );
    }
    for (k, (name, colour, values)) in series.iter().enumerate() {
        let pts: Vec<String> = values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", left + step * i as f64, y_of(*v))).collect();
        let _ = write!(out, "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>", pts.join(" "));
        for (i, v) in values.iter().enumerate() {
            let _ = write!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"><title>{}: {}</title></circle>",
                left + step * i as f64,
                y_of(*v),
                escape(name),
                fmt(*v)
            );
        }
        let _ = write!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>",
            left + 130.0 * k as f64,
            h - 14.0,
            left + 130.0 * k as f64 + 14.0,
            h - 5.0,
            escape(name)
        );
    }
    out.push_str("</svg>");
    out
}

/// The 5×5 risk heat map: likelihood up, impact across, each cell coloured by its level and
/// holding the risks rated there.
pub fn heat_map(title: &str, level_colour: &dyn Fn(u8, u8) -> &'static str, risks: &[(String, u8, u8)]) -> String {
    let (cell, left, top) = (70.0, 40.0, 10.0);
    let mut out = open(title, left + 5.0 * cell + 10.0, top + 5.0 * cell + 40.0);
    for likelihood in 1..=5u8 {
        for impact in 1..=5u8 {
            let x = left + (impact - 1) as f64 * cell;
            let y = top + (5 - likelihood) as f64 * cell;
            let here: Vec<&str> = risks.iter().filter(|(_, l, i)| *l == likelihood && *i == impact).map(|(r, _, _)| r.as_str()).collect();
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cell}\" height=\"{cell}\" fill=\"{}\" stroke=\"#fff\"><title>likelihood {likelihood}, impact {impact}: {}</title></rect>",
                level_colour(likelihood, impact),
                if here.is_empty() { "no risk".to_string() } else { escape(&here.join(", ")) }
            );
            for (k, r) in here.iter().take(4).enumerate() {
                let _ =
                    write!(out, "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>", x + 5.0, y + 15.0 + 14.0 * k as f64, escape(r));
            }
            if here.len() > 4 {
                let _ = write!(out, "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">+{}</text>", x + 5.0, y + cell - 5.0, here.len() - 4);
            }
        }
        let _ = write!(
            out,
            "<text x=\"20\" y=\"{:.1}\" font-size=\"11\">{likelihood}</text>",
            top + (5 - likelihood) as f64 * cell + cell / 2.0
        );
    }
    for impact in 1..=5u8 {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{impact}</text>",
            left + (impact - 1) as f64 * cell + cell / 2.0,
            top + 5.0 * cell + 14.0
        );
    }
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">impact →</text><text x=\"0\" y=\"{:.1}\" font-size=\"11\">↑</text>",
        left + 2.5 * cell,
        top + 5.0 * cell + 32.0,
        top + 12.0
    );
    out.push_str("</svg>");
    out
}

/// Loss-exceedance curves: the probability (0–1) that a year's loss reaches an amount, on a
/// logarithmic amount axis.
pub fn exceedance(title: &str, currency: &str, curves: &[(String, &'static str, Vec<(f64, f64)>)]) -> String {
    let (w, h, left, bottom) = (640.0, 260.0, 50.0, 50.0);
    let xs: Vec<f64> = curves.iter().flat_map(|(_, _, c)| c.iter().map(|p| p.0)).filter(|x| *x > 0.0).collect();
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(0.0, f64::max);
    let mut out = open(title, w, h);
    if xs.is_empty() || !lo.is_finite() {
        out.push_str("<text x=\"10\" y=\"20\" font-size=\"12\">no loss simulated</text></svg>");
        return out;
    }
    let (llo, lhi) = (lo.log10().floor(), hi.log10().ceil().max(lo.log10().floor() + 1.0));
    let x_of = |x: f64| left + (w - left - 20.0) * (x.log10() - llo) / (lhi - llo);
    let y_of = |p: f64| 10.0 + (h - bottom - 10.0) * (1.0 - p);
    let _ = write!(out, "<line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#888\"/>", h - bottom, w - 10.0, h - bottom);
    for p in [0.0, 0.5, 1.0] {
        let _ = write!(out, "<text x=\"0\" y=\"{:.1}\" font-size=\"10\">{:.0} %</text>", y_of(p) + 4.0, p * 100.0);
    }
    let mut decade = llo;
    while decade <= lhi {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            x_of(10f64.powf(decade)),
            h - bottom + 14.0,
            fmt(10f64.powf(decade))
        );
        decade += 1.0;
    }
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">annual loss ({}), log scale</text>",
        w / 2.0,
        h - bottom + 28.0,
        escape(currency)
    );
    for (k, (name, colour, curve)) in curves.iter().enumerate() {
        let pts: Vec<String> = curve.iter().filter(|p| p.0 > 0.0).map(|(x, p)| format!("{:.1},{:.1}", x_of(*x), y_of(*p))).collect();
        let _ = write!(
            out,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"><title>{}</title></polyline>",
            pts.join(" "),
            escape(name)
        );
        let _ = write!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>",
            left + 110.0 * (k % 5) as f64,
            h - 16.0 + 0.0 * (k / 5) as f64,
            left + 110.0 * (k % 5) as f64 + 14.0,
            h - 7.0,
            escape(name)
        );
    }
    out.push_str("</svg>");
    out
}

fn open(title: &str, w: f64, h: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{t}\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\"><title>{t}</title>",
        t = escape(title)
    )
}

/// 1,250,000 as `1.25M`, 3,400 as `3.4k`.
pub fn fmt(x: f64) -> String {
    let trim = |s: String| s.trim_end_matches('0').trim_end_matches('.').to_string();
    if x.abs() >= 1e6 {
        format!("{}M", trim(format!("{:.2}", x / 1e6)))
    } else if x.abs() >= 1e3 {
        format!("{}k", trim(format!("{:.1}", x / 1e3)))
    } else {
        trim(format!("{x:.2}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_deterministic_and_escape_their_labels() {
        let bars = vec![("<b>".to_string(), vec![Segment { name: "a&b".into(), value: 3.0, colour: "#000" }])];
        let one = stacked_shares("t", &bars);
        assert_eq!(one, stacked_shares("t", &bars));
        assert!(one.contains("&lt;b&gt;") && one.contains("a&amp;b") && !one.contains("<b>"));
        let map = heat_map("h", &|_, _| "#eee", &[("R-1".into(), 3, 4)]);
        assert!(map.contains("likelihood 3, impact 4: R-1"));
        let lec = exceedance("l", "EUR", &[("portfolio".into(), "#00f", vec![(1000.0, 0.5), (100000.0, 0.01)])]);
        assert!(lec.contains("<polyline"));
        assert_eq!(fmt(1_250_000.0), "1.25M");
        assert_eq!(fmt(3_400.0), "3.4k");
    }
}
