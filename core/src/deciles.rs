//! National deciles and percentile ranks as OpenPrescribing computes them (METHOD.md §9.3):
//! the 10th to 90th percentiles of a month's values by BigQuery's `PERCENTILE_CONT` (linear
//! interpolation between the two nearest ranks), and each organisation's place by
//! `PERCENT_RANK` ((rank − 1) / (n − 1), ties sharing the lowest rank). Values that are not
//! numbers (a 0/0 ratio) are in neither, as OpenPrescribing's `calc_value IS NOT NULL AND NOT
//! IS_NAN(calc_value)` leaves them out.
//!
//! Sources: OpenPrescribing's `measure_sql/global_deciles_practices.sql` and
//! `practice_percent_rank.sql` (ebmdatalab/openprescribing, now bennettoxford).

/// The percentiles of OpenPrescribing's charts: 10th, 20th, … 90th.
pub const DECILES: [u32; 9] = [10, 20, 30, 40, 50, 60, 70, 80, 90];

/// `PERCENTILE_CONT(value, p)` over `sorted` (ascending, every value a number): the value at
/// position `p × (n − 1)`, interpolated linearly between its neighbours. `None` when empty.
pub fn percentile_cont(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let pos = p.clamp(0.0, 1.0) * (n - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let frac = pos - lo as f64;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

/// The nine deciles of a month's values (numbers only; NaN and infinite values are left out).
pub fn deciles(values: impl Iterator<Item = f64>) -> Option<[f64; 9]> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mut out = [0.0; 9];
    for (o, d) in out.iter_mut().zip(DECILES) {
        *o = percentile_cont(&v, d as f64 / 100.0)?;
    }
    Some(out)
}

/// `PERCENT_RANK() OVER (ORDER BY value)` of each value, in the order given: `(rank − 1) /
/// (n − 1)` where rank is 1 + the number of values below it (ties share the lowest rank),
/// 0 when there is one value; `None` for a value that is not a finite number.
pub fn percent_ranks(values: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut sorted: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    values
        .iter()
        .map(|v| {
            let v = (*v).filter(|x| x.is_finite())?;
            if n <= 1 {
                return Some(0.0);
            }
            let below = sorted.partition_point(|x| *x < v);
            Some(below as f64 / (n - 1) as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    // Worked by hand. Five values 1, 2, 4, 8, 16: the 10th percentile is at position
    // 0.1 × 4 = 0.4, between 1 and 2: 1.4; the median at 2 is 4; the 90th at 3.6 is
    // 8 + 0.6 × 8 = 12.8; the 30th at 1.2 is 2 + 0.2 × 2 = 2.4.
    #[test]
    fn percentile_cont_interpolates_between_ranks() {
        let v = [1.0, 2.0, 4.0, 8.0, 16.0];
        close(percentile_cont(&v, 0.1).unwrap(), 1.4);
        close(percentile_cont(&v, 0.3).unwrap(), 2.4);
        close(percentile_cont(&v, 0.5).unwrap(), 4.0);
        close(percentile_cont(&v, 0.9).unwrap(), 12.8);
        close(percentile_cont(&[7.0], 0.9).unwrap(), 7.0);
        assert_eq!(percentile_cont(&[], 0.5), None);
    }

    // The values come in any order and NaN (OpenPrescribing's 0/0) is left out: deciles of
    // 16, NaN, 1, 8, 2, 4 are those of 1, 2, 4, 8, 16.
    #[test]
    fn deciles_leave_out_values_that_are_not_numbers() {
        let d = deciles([16.0, f64::NAN, 1.0, 8.0, 2.0, 4.0].into_iter()).unwrap();
        close(d[0], 1.4);
        close(d[4], 4.0);
        close(d[8], 12.8);
        assert_eq!(deciles([f64::NAN].into_iter()), None);
    }

    // Four values 10, 20, 20, 40: ranks 1, 2, 2, 4, so percent ranks 0, 1/3, 1/3, 1; a value
    // not a number has none and does not count in n.
    #[test]
    fn percent_rank_shares_ties_lowest_rank() {
        let r = percent_ranks(&[Some(20.0), Some(40.0), None, Some(10.0), Some(20.0)]);
        assert_eq!(r[2], None);
        close(r[0].unwrap(), 1.0 / 3.0);
        close(r[4].unwrap(), 1.0 / 3.0);
        close(r[1].unwrap(), 1.0);
        close(r[3].unwrap(), 0.0);
        assert_eq!(percent_ranks(&[Some(5.0)]), vec![Some(0.0)]);
        assert_eq!(percent_ranks(&[Some(f64::NAN)]), vec![None]);
    }
}
