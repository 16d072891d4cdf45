//! Statistics helpers behind the score: type-7 quantiles and the quantile
//! scaling 1KV used, made total (no NaN out, no panic, input never reordered).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// NaN-free, ascending copy of `values`.
fn sorted_copy(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Type-7 quantile of an already sorted, NaN-free slice.
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return 0.0;
    };
    // NaN q is treated as 0; q outside [0, 1] is clamped.
    let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
    let pos = last as f64 * q;
    let i = (pos.floor() as usize).min(last);
    let frac = pos - i as f64;
    let a = sorted[i];
    match sorted.get(i + 1) {
        Some(&b) => {
            // NaN only from infinities (inf - inf, inf * 0): keep the lower value.
            let x = a + (b - a) * frac;
            if x.is_nan() { a } else { x }
        }
        None => a,
    }
}

/// Position of `v` between the `lo` and `hi` quantiles of a sorted slice,
/// clamped to [0, 1]; `None` when `v` (or the arithmetic) is NaN.
pub(crate) fn scale_sorted(v: f64, sorted: &[f64], lo: f64, hi: f64) -> Option<f64> {
    if v.is_nan() {
        return None;
    }
    if sorted.is_empty() {
        return Some(0.0);
    }
    let (low, high) = (quantile_sorted(sorted, lo), quantile_sorted(sorted, hi));
    let s = if v <= low {
        0.0
    } else if v >= high {
        1.0
    } else {
        (v - low) / (high - low)
    };
    if s.is_nan() { None } else { Some(s.clamp(0.0, 1.0)) }
}

/// Type-7 quantile (numpy's default) of `values`: linear interpolation
/// between the order statistics around `(n-1)*q`. Works on a sorted copy
/// (1KV sorted the caller's array in place). NaN values are ignored; empty
/// gives 0.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    quantile_sorted(&sorted_copy(values), q)
}

/// Where `v` lies between the 10th and 90th percentile of `values`, in [0, 1].
/// Empty `values` or NaN gives 0.
pub fn scaled(v: f64, values: &[f64]) -> f64 {
    scaled_defined(v, values, 0.1, 0.9)
}

/// Like [`scaled`] between the `lo` and `hi` quantiles.
pub fn scaled_defined(v: f64, values: &[f64], lo: f64, hi: f64) -> f64 {
    scale_sorted(v, &sorted_copy(values), lo, hi).unwrap_or(0.0)
}

/// A distribution a component was scaled against. `values` (sorted, NaN
/// removed) is the source of truth; the other fields are for display.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Stats {
    pub values: Vec<f64>,
    pub min: f64,
    pub max: f64,
    pub q10: f64,
    pub q25: f64,
    pub q50: f64,
    pub q75: f64,
    pub q90: f64,
    pub mean: f64,
    /// Sample standard deviation (n - 1); 0 for fewer than two values.
    pub std: f64,
}

impl Stats {
    /// Statistics of `values` (NaN ignored). Computed from the sorted copy,
    /// so the result does not depend on the input order.
    pub fn of(values: &[f64]) -> Stats {
        let values = sorted_copy(values);
        let (Some(&min), Some(&max)) = (values.first(), values.last()) else {
            return Stats::default();
        };
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std =
            if values.len() > 1 { (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { 0.0 };
        let q = |p| quantile_sorted(&values, p);
        Stats { min, max, q10: q(0.1), q25: q(0.25), q50: q(0.5), q75: q(0.75), q90: q(0.9), mean, std, values }
    }

    /// `values` sorted and NaN-free, copying only if a deserialized `Stats`
    /// was not.
    fn sorted(&self) -> Cow<'_, [f64]> {
        if self.values.iter().all(|x| !x.is_nan()) && self.values.is_sorted() {
            Cow::Borrowed(&self.values)
        } else {
            Cow::Owned(sorted_copy(&self.values))
        }
    }

    /// [`scaled_defined`] against these values; `None` for NaN.
    #[cfg(test)]
    pub(crate) fn scale(&self, v: f64, lo: f64, hi: f64) -> Option<f64> {
        scale_sorted(v, &self.sorted(), lo, hi)
    }

    /// Whether `values` is already sorted and NaN-free (as [`Stats::of`] makes it).
    pub(crate) fn is_normal(&self) -> bool {
        matches!(self.sorted(), Cow::Borrowed(_))
    }

    /// These stats with `values` sorted and NaN-free.
    pub(crate) fn normalised(&self) -> Stats {
        Stats { values: self.sorted().into_owned(), ..self.clone() }
    }

    /// [`Stats::scale`] for stats known to be normal: no check per call, which
    /// would make a round quadratic in its candidates.
    pub(crate) fn scale_normal(&self, v: f64, lo: f64, hi: f64) -> Option<f64> {
        scale_sorted(v, &self.values, lo, hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn quantile_type7() {
        let v = [4.0, 1.0, 3.0, 2.0];
        assert!(close(quantile(&v, 0.1), 1.3));
        assert!(close(quantile(&v, 0.9), 3.7));
        assert!(close(quantile(&v, 0.5), 2.5));
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert_eq!(v, [4.0, 1.0, 3.0, 2.0], "input must not be reordered");
    }

    #[test]
    fn quantile_edges() {
        assert_eq!(quantile(&[], 0.5), 0.0);
        assert_eq!(quantile(&[7.0], 0.3), 7.0);
        assert_eq!(quantile(&[f64::NAN, 2.0, f64::NAN, 1.0], 1.0), 2.0);
        assert_eq!(quantile(&[f64::NAN], 0.5), 0.0);
        assert_eq!(quantile(&[1.0, 2.0], f64::NAN), 1.0);
        assert_eq!(quantile(&[1.0, 2.0], 7.0), 2.0);
        assert_eq!(quantile(&[f64::INFINITY, f64::INFINITY], 0.5), f64::INFINITY);
        assert!(!quantile(&[f64::NEG_INFINITY, f64::INFINITY], 0.5).is_nan());
        assert_eq!(quantile(&[1.0, f64::INFINITY], 0.0), 1.0);
    }

    #[test]
    fn scaled_cases() {
        let v = [1.0, 2.0, 3.0, 4.0];
        // (2 - 1.3) / (3.7 - 1.3)
        assert!(close(scaled(2.0, &v), 0.7 / 2.4));
        assert_eq!(scaled(1.3, &v), 0.0);
        assert_eq!(scaled(0.0, &v), 0.0);
        assert_eq!(scaled(3.7, &v), 1.0);
        assert_eq!(scaled(9.0, &v), 1.0);
        assert_eq!(scaled(2.0, &[]), 0.0);
        assert_eq!(scaled(f64::NAN, &v), 0.0);
        assert_eq!(scaled(5.0, &[5.0, 5.0]), 0.0, "all equal: at q10 counts as low");
        // min-max: counts [1, 2, 3]
        assert!(close(scaled_defined(2.0, &[3.0, 1.0, 2.0], 0.0, 1.0), 0.5));
        assert_eq!(scaled_defined(2.0, &[], 0.0, 1.0), 0.0);
        assert_eq!(scaled(0.0, &[-1e308, 1e308, f64::NEG_INFINITY, f64::INFINITY]), 0.0);
    }

    #[test]
    fn stats_of() {
        let s = Stats::of(&[3.0, f64::NAN, 1.0, 2.0, 4.0]);
        assert_eq!(s.values, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!((s.min, s.max, s.mean), (1.0, 4.0, 2.5));
        assert!(close(s.q10, 1.3) && close(s.q25, 1.75) && close(s.q50, 2.5));
        assert!(close(s.q75, 3.25) && close(s.q90, 3.7));
        // sample variance: (2.25 + 0.25 + 0.25 + 2.25) / 3
        assert!(close(s.std, (5.0f64 / 3.0).sqrt()));
        assert_eq!(Stats::of(&[]), Stats::default());
        let one = Stats::of(&[5.0]);
        assert_eq!((one.std, one.q10, one.mean), (0.0, 5.0, 5.0));
    }

    #[test]
    fn unsorted_deserialized_stats_still_scale() {
        let s = Stats { values: vec![4.0, f64::NAN, 1.0, 3.0, 2.0], ..Stats::default() };
        assert!(close(s.scale(2.0, 0.1, 0.9).unwrap_or(-1.0), 0.7 / 2.4));
    }
}
