//! Classification metrics, shared by model training, `EVALUATE MODEL` and
//! the metric aggregate functions.

/// Probabilities are clipped to [EPS, 1 − EPS] in the log loss (as
/// scikit-learn does), so a confident mistake costs a lot but not infinity.
pub const LOG_LOSS_EPS: f64 = 1e-15;

/// Area under the ROC curve: the probability that a random positive scores
/// above a random negative, ties counting one half (Mann–Whitney U with
/// average ranks). `None` when either class is missing.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let positives = labels.iter().filter(|l| **l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    // Sorting the pairs themselves keeps the sort cache-friendly.
    let mut pairs: Vec<(f64, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    // Sum of the (average, 1-based) ranks of the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        while j + 1 < pairs.len() && pairs[j + 1].0 == pairs[i].0 {
            j += 1;
        }
        let average_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += average_rank * pairs[i..=j].iter().filter(|p| p.1).count() as f64;
        i = j + 1;
    }
    let p = positives as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

/// Mean negative log-likelihood.
pub fn log_loss(scores: &[f64], labels: &[bool]) -> Option<f64> {
    if scores.is_empty() {
        return None;
    }
    let total: f64 = scores
        .iter()
        .zip(labels)
        .map(|(&p, &y)| log_loss_term(p, y))
        .sum();
    Some(total / scores.len() as f64)
}

pub fn log_loss_term(p: f64, y: bool) -> f64 {
    let p = p.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS);
    if y { -p.ln() } else { -(1.0 - p).ln() }
}

pub fn brier_term(p: f64, y: bool) -> f64 {
    (p - f64::from(u8::from(y))).powi(2)
}

/// Mean squared error of the probabilities.
pub fn brier_score(scores: &[f64], labels: &[bool]) -> Option<f64> {
    if scores.is_empty() {
        return None;
    }
    let total: f64 = scores
        .iter()
        .zip(labels)
        .map(|(&p, &y)| brier_term(p, y))
        .sum();
    Some(total / scores.len() as f64)
}

/// Counts at a threshold: predicted positive when score >= threshold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Confusion {
    pub true_positives: u64,
    pub false_positives: u64,
    pub true_negatives: u64,
    pub false_negatives: u64,
}

impl Confusion {
    pub fn new(scores: &[f64], labels: &[bool], threshold: f64) -> Self {
        let mut c = Self::default();
        for (&p, &y) in scores.iter().zip(labels) {
            match (p >= threshold, y) {
                (true, true) => c.true_positives += 1,
                (true, false) => c.false_positives += 1,
                (false, false) => c.true_negatives += 1,
                (false, true) => c.false_negatives += 1,
            }
        }
        c
    }

    fn ratio(num: u64, den: u64) -> Option<f64> {
        (den > 0).then(|| num as f64 / den as f64)
    }

    pub fn accuracy(&self) -> Option<f64> {
        Self::ratio(
            self.true_positives + self.true_negatives,
            self.true_positives + self.true_negatives + self.false_positives + self.false_negatives,
        )
    }

    pub fn precision(&self) -> Option<f64> {
        Self::ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    pub fn recall(&self) -> Option<f64> {
        Self::ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    pub fn f1(&self) -> Option<f64> {
        Self::ratio(
            2 * self.true_positives,
            2 * self.true_positives + self.false_positives + self.false_negatives,
        )
    }
}

/// Every binary-classification metric, named as `EVALUATE MODEL` reports
/// them; metrics that are undefined for the data (AUC with one class) are
/// left out.
pub fn binary_metrics(scores: &[f64], labels: &[bool], threshold: f64) -> Vec<(&'static str, f64)> {
    let confusion = Confusion::new(scores, labels, threshold);
    let mut metrics = vec![("rows", scores.len() as f64)];
    let optional = [
        ("roc_auc", roc_auc(scores, labels)),
        ("log_loss", log_loss(scores, labels)),
        ("brier_score", brier_score(scores, labels)),
        ("accuracy", confusion.accuracy()),
        ("precision", confusion.precision()),
        ("recall", confusion.recall()),
        ("f1", confusion.f1()),
    ];
    metrics.extend(optional.into_iter().filter_map(|(n, v)| v.map(|v| (n, v))));
    metrics.extend([
        ("threshold", threshold),
        ("true_positives", confusion.true_positives as f64),
        ("false_positives", confusion.false_positives as f64),
        ("true_negatives", confusion.true_negatives as f64),
        ("false_negatives", confusion.false_negatives as f64),
    ]);
    metrics
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_by_hand() {
        // Positives 0.9, 0.4; negatives 0.35, 0.8 → pairs (0.9>0.35, 0.9>0.8,
        // 0.4>0.35, 0.4<0.8) → 3 of 4.
        let auc = roc_auc(&[0.9, 0.4, 0.35, 0.8], &[true, true, false, false]).unwrap();
        assert!((auc - 0.75).abs() < 1e-15);
        // Ties count half: positive 0.5 vs negatives 0.5 and 0.2 → (0.5 + 1) / 2.
        let auc = roc_auc(&[0.5, 0.5, 0.2], &[true, false, false]).unwrap();
        assert!((auc - 0.75).abs() < 1e-15);
        // All scores equal: 0.5.
        assert_eq!(roc_auc(&[0.3; 4], &[true, false, true, false]), Some(0.5));
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
    }

    #[test]
    fn log_loss_and_brier_by_hand() {
        // -(ln 0.8 + ln 0.6) / 2 = 0.36698...
        let ll = log_loss(&[0.8, 0.4], &[true, false]).unwrap();
        assert!((ll - (-(0.8f64.ln() + 0.6f64.ln()) / 2.0)).abs() < 1e-15);
        // ((0.2)² + (0.4)²) / 2 = 0.1
        assert!((brier_score(&[0.8, 0.4], &[true, false]).unwrap() - 0.1).abs() < 1e-15);
        // Clipped, not infinite.
        assert!(log_loss(&[0.0], &[true]).unwrap() < 35.0);
        assert_eq!(log_loss(&[], &[]), None);
    }

    #[test]
    fn confusion_counts() {
        let c = Confusion::new(
            &[0.9, 0.6, 0.4, 0.2, 0.5],
            &[true, false, true, false, true],
            0.5,
        );
        assert_eq!(
            (
                c.true_positives,
                c.false_positives,
                c.true_negatives,
                c.false_negatives
            ),
            (2, 1, 1, 1)
        );
        assert_eq!(c.precision(), Some(2.0 / 3.0));
        assert_eq!(c.recall(), Some(2.0 / 3.0));
        assert_eq!(c.accuracy(), Some(0.6));
        assert_eq!(c.f1(), Some(4.0 / 6.0));
    }
}
