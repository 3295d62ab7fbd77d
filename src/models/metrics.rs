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

/// Metrics of a classifier with any number of classes, from the true and
/// predicted class per row (codes into `classes`) and, when known, each
/// row's probability of every class (row-major, `classes.len()` per row):
/// accuracy, macro-averaged F1, per-class precision, recall, F1 and
/// support, the confusion counts, and with probabilities the log loss
/// (and ROC AUC for two classes, the second class as positive).
/// Precision or recall of a class with no predictions or no rows is 0,
/// as in scikit-learn's `zero_division=0`.
pub fn multiclass_metrics(
    classes: &[String],
    truth: &[u32],
    predicted: &[u32],
    probabilities: Option<&[f64]>,
) -> Vec<(String, f64)> {
    let k = classes.len();
    let n = truth.len();
    if n == 0 || k == 0 {
        return Vec::new();
    }
    let mut confusion = vec![0_u64; k * k];
    for (&t, &p) in truth.iter().zip(predicted) {
        confusion[t as usize * k + p as usize] += 1;
    }
    let correct: u64 = (0..k).map(|c| confusion[c * k + c]).sum();
    let mut out = vec![("accuracy".to_string(), correct as f64 / n as f64)];
    let mut per_class = Vec::new();
    let mut f1_sum = 0.0;
    for (c, class) in classes.iter().enumerate() {
        let tp = confusion[c * k + c] as f64;
        let support: u64 = (0..k).map(|p| confusion[c * k + p]).sum();
        let predicted_c: u64 = (0..k).map(|t| confusion[t * k + c]).sum();
        let ratio = |a: f64, b: u64| if b == 0 { 0.0 } else { a / b as f64 };
        let (precision, recall) = (ratio(tp, predicted_c), ratio(tp, support));
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        f1_sum += f1;
        per_class.push((format!("precision[{class}]"), precision));
        per_class.push((format!("recall[{class}]"), recall));
        per_class.push((format!("f1[{class}]"), f1));
        per_class.push((format!("support[{class}]"), support as f64));
    }
    out.push(("macro_f1".to_string(), f1_sum / k as f64));
    if let Some(p) = probabilities {
        let loss: f64 = truth
            .iter()
            .enumerate()
            .map(|(i, &t)| -p[i * k + t as usize].clamp(1e-15, 1.0).ln())
            .sum();
        out.push(("log_loss".to_string(), loss / n as f64));
        if k == 2 {
            let scores: Vec<f64> = (0..n).map(|i| p[i * 2 + 1]).collect();
            let labels: Vec<bool> = truth.iter().map(|&t| t == 1).collect();
            if let Some(auc) = roc_auc(&scores, &labels) {
                out.push(("roc_auc".to_string(), auc));
            }
        }
    }
    out.extend(per_class);
    for (t, true_class) in classes.iter().enumerate() {
        for (p, predicted_class) in classes.iter().enumerate() {
            out.push((
                format!("confusion[true={true_class},predicted={predicted_class}]"),
                confusion[t * k + p] as f64,
            ));
        }
    }
    out
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

    #[test]
    fn multiclass_counts_by_hand() {
        let classes: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        // truth a a b b c c, predicted a b b b a c.
        let m: std::collections::HashMap<String, f64> =
            multiclass_metrics(&classes, &[0, 0, 1, 1, 2, 2], &[0, 1, 1, 1, 0, 2], None)
                .into_iter()
                .collect();
        assert_eq!(m["accuracy"], 4.0 / 6.0);
        // a: P 1/2 R 1/2 F 1/2; b: P 2/3 R 1 F 0.8; c: P 1 R 1/2 F 2/3.
        assert_eq!(m["precision[b]"], 2.0 / 3.0);
        assert_eq!(m["recall[c]"], 0.5);
        let macro_f1 = (0.5 + 0.8 + 2.0 / 3.0) / 3.0;
        assert!((m["macro_f1"] - macro_f1).abs() < 1e-12);
        assert_eq!(m["confusion[true=a,predicted=b]"], 1.0);
        assert_eq!(m["confusion[true=c,predicted=a]"], 1.0);
        assert_eq!(m["support[a]"], 2.0);
        let two: Vec<String> = ["n", "p"].iter().map(|s| s.to_string()).collect();
        let m: std::collections::HashMap<String, f64> =
            multiclass_metrics(&two, &[0, 1], &[0, 1], Some(&[0.8, 0.2, 0.4, 0.6]))
                .into_iter()
                .collect();
        assert!((m["log_loss"] - (-(0.8_f64.ln()) - 0.6_f64.ln()) / 2.0).abs() < 1e-12);
        assert_eq!(m["roc_auc"], 1.0);
    }
}
