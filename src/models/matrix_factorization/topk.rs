//! Batched scoring and top-k selection: a block of query rows times all
//! item factors in one matrix product, then a bounded heap per row (a
//! partial sort: O(n log k), never a full sort of the catalogue).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, s};

use crate::models::parallel;

/// Query rows per matrix product (the score block is BLOCK × items).
const BLOCK: usize = 128;

/// A kept candidate; the heap's greatest element is the worst kept one.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    score: f32,
    item: u32,
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Candidate {
    /// Worse = lower score, then (on ties) the larger item index.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(self.item.cmp(&other.item))
    }
}

/// The k best (score, index) of one row of scores, best first; ties go to
/// the smaller index. Scores of −∞ (excluded items) never count.
pub fn top_k(scores: &[f32], k: usize) -> Vec<(u32, f32)> {
    if k == 0 {
        return Vec::new();
    }
    let mut heap: BinaryHeap<Candidate> = BinaryHeap::with_capacity(k + 1);
    for (i, &score) in scores.iter().enumerate() {
        if score == f32::NEG_INFINITY || score.is_nan() {
            continue;
        }
        let c = Candidate {
            score,
            item: i as u32,
        };
        if heap.len() < k {
            heap.push(c);
        } else if let Some(worst) = heap.peek()
            && c < *worst
        {
            heap.pop();
            heap.push(c);
        }
    }
    heap.into_sorted_vec()
        .into_iter()
        .map(|c| (c.item, c.score))
        .collect()
}

/// For each query row q: the top k of q·T + query_bias[q] + target_bias,
/// skipping `exclude(q)` and items `allowed` rules out.
pub fn top_k_rows<'a>(
    queries: ArrayView2<'_, f32>,
    targets: ArrayView2<'_, f32>,
    query_bias: &[f32],
    target_bias: Option<&[f32]>,
    exclude: impl Fn(usize) -> &'a [u32] + Sync,
    k: usize,
    allowed: Option<&[bool]>,
) -> Vec<Vec<(u32, f32)>> {
    let n = targets.nrows();
    let targets_t = targets.t();
    let blocks = parallel::map_ranges(queries.nrows(), BLOCK, |range| {
        let q = queries.slice(s![range.clone(), ..]);
        let mut scores = Array2::<f32>::zeros((range.len(), n));
        general_mat_mul(1.0, &q, &targets_t, 0.0, &mut scores);
        let mut out = Vec::with_capacity(range.len());
        for (r, mut row) in scores.rows_mut().into_iter().enumerate() {
            let q_index = range.start + r;
            let Some(row) = row.as_slice_mut() else {
                out.push(Vec::new());
                continue;
            };
            let bias = query_bias.get(q_index).copied().unwrap_or(0.0);
            match target_bias {
                Some(tb) => row.iter_mut().zip(tb).for_each(|(s, b)| *s += bias + b),
                None if bias != 0.0 => row.iter_mut().for_each(|s| *s += bias),
                None => {}
            }
            for &i in exclude(q_index) {
                if let Some(s) = row.get_mut(i as usize) {
                    *s = f32::NEG_INFINITY;
                }
            }
            if let Some(allowed) = allowed {
                for (s, ok) in row.iter_mut().zip(allowed) {
                    if !ok {
                        *s = f32::NEG_INFINITY;
                    }
                }
            }
            out.push(top_k(row, k));
        }
        out
    });
    blocks.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn top_k_orders_breaks_ties_and_skips_excluded() {
        let scores = [0.5, 2.0, f32::NEG_INFINITY, 2.0, 1.0, 0.5];
        assert_eq!(top_k(&scores, 3), vec![(1, 2.0), (3, 2.0), (4, 1.0)]);
        assert_eq!(top_k(&scores, 10).len(), 5, "k beyond the catalogue");
        assert_eq!(top_k(&scores, 0), vec![]);
        assert_eq!(top_k(&[0.5, 0.5, 0.5], 2), vec![(0, 0.5), (1, 0.5)]);
    }

    #[test]
    fn rows_match_brute_force() {
        let q = array![[1.0_f32, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let t = array![[1.0_f32, 2.0], [3.0, -1.0], [0.5, 0.5], [-2.0, 4.0]];
        let excluded: Vec<Vec<u32>> = vec![vec![1], vec![], vec![3]];
        let got = top_k_rows(
            q.view(),
            t.view(),
            &[0.0, 10.0, 0.0],
            None,
            |r| &excluded[r],
            2,
            Some(&[true, true, true, true]),
        );
        // Row 0 scores 1, 3, 0.5, -2 without item 1; row 1 is 2, -1, 0.5, 4
        // plus 10; row 2 is 3, 2, 1, 2 without item 3.
        assert_eq!(got[0], vec![(0, 1.0), (2, 0.5)]);
        assert_eq!(got[1], vec![(3, 14.0), (0, 12.0)]);
        assert_eq!(got[2], vec![(0, 3.0), (1, 2.0)]);
    }
}
