//! Small dense linear algebra on ndarray: the d×d systems of Newton steps
//! (d = number of model terms, tens to hundreds), where a hand-written
//! Cholesky factorisation is simpler than a LAPACK dependency and as fast.

use ndarray::{Array1, Array2};

/// The lower-triangular Cholesky factor L of a symmetric positive-definite
/// matrix (A = L·Lᵀ), or `None` if A is not positive definite.
pub fn cholesky(a: &Array2<f64>) -> Option<Array2<f64>> {
    let n = a.nrows();
    if a.ncols() != n {
        return None;
    }
    let mut l = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        let mut diag = a[[j, j]];
        for k in 0..j {
            diag -= l[[j, k]] * l[[j, k]];
        }
        // NaN fails this test too.
        if diag.is_nan() || diag <= 0.0 || diag.is_infinite() {
            return None;
        }
        let d = diag.sqrt();
        l[[j, j]] = d;
        for i in j + 1..n {
            let mut v = a[[i, j]];
            for k in 0..j {
                v -= l[[i, k]] * l[[j, k]];
            }
            l[[i, j]] = v / d;
        }
    }
    Some(l)
}

/// Solve A·x = b given A's Cholesky factor L.
pub fn cholesky_solve(l: &Array2<f64>, b: &Array1<f64>) -> Array1<f64> {
    let n = l.nrows();
    // L·y = b
    let mut y = b.clone();
    for i in 0..n {
        let mut v = y[i];
        for k in 0..i {
            v -= l[[i, k]] * y[k];
        }
        y[i] = v / l[[i, i]];
    }
    // Lᵀ·x = y
    let mut x = y;
    for i in (0..n).rev() {
        let mut v = x[i];
        for k in i + 1..n {
            v -= l[[k, i]] * x[k];
        }
        x[i] = v / l[[i, i]];
    }
    x
}

/// The diagonal of A⁻¹ from A's Cholesky factor (for standard errors).
pub fn inverse_diagonal(l: &Array2<f64>) -> Array1<f64> {
    let n = l.nrows();
    let mut diag = Array1::zeros(n);
    let mut e = Array1::zeros(n);
    for i in 0..n {
        e.fill(0.0);
        e[i] = 1.0;
        diag[i] = cholesky_solve(l, &e)[i];
    }
    diag
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn solves_a_known_system() {
        // A = [[4, 2, 0.4], [2, 5, 1], [0.4, 1, 3]], x = [1, -2, 0.5]
        let a = array![[4.0, 2.0, 0.4], [2.0, 5.0, 1.0], [0.4, 1.0, 3.0]];
        let x = array![1.0, -2.0, 0.5];
        let b = a.dot(&x);
        let l = cholesky(&a).unwrap();
        let solved = cholesky_solve(&l, &b);
        for (s, e) in solved.iter().zip(&x) {
            assert!((s - e).abs() < 1e-12, "{solved} vs {x}");
        }
        // diag(A⁻¹) checked against A·A⁻¹ = I column by column.
        let inv_diag = inverse_diagonal(&l);
        for i in 0..3 {
            let mut e = Array1::zeros(3);
            e[i] = 1.0;
            let col = cholesky_solve(&l, &e);
            assert!((a.dot(&col)[i] - 1.0).abs() < 1e-12);
            assert!((col[i] - inv_diag[i]).abs() < 1e-15);
        }
    }

    #[test]
    fn rejects_indefinite_matrices() {
        assert!(cholesky(&array![[1.0, 2.0], [2.0, 1.0]]).is_none());
        assert!(cholesky(&array![[0.0, 0.0], [0.0, 1.0]]).is_none());
        assert!(cholesky(&array![[f64::NAN]]).is_none());
    }
}
