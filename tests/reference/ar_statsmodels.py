"""Reference values for the AR(p) unit tests (src/models/ar/process.rs):
statsmodels AutoReg(y, 3, trend='c') on a fixed 24-point series, its
coefficients, sigma2, AIC/BIC, and its 5-step forecasts, printed with full
precision. Run: python tests/reference/ar_statsmodels.py (statsmodels 0.14.x,
numpy 2.x)."""
import numpy as np
from statsmodels.tsa.ar_model import AutoReg, ar_select_order

y = np.array([112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118,
              115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114, 140], dtype=float)
res = AutoReg(y, 3, trend="c").fit()
np.set_printoptions(precision=17)
print("params", repr(res.params))
print("sigma2", repr(res.sigma2))
print("aic", repr(res.aic), "bic", repr(res.bic), "nobs", res.nobs)
print("bse", repr(res.bse))
print("forecast", repr(res.predict(start=len(y), end=len(y) + 4)))
sel = ar_select_order(y, maxlag=6, ic="aic", trend="c")
print("selected aic", sel.ar_lags)
sel = ar_select_order(y, maxlag=6, ic="bic", trend="c")
print("selected bic", sel.ar_lags)
# 95% prediction intervals of the 5-step forecast (ψ-weights and sigma2).
frame = res.get_prediction(start=len(y), end=len(y) + 4).summary_frame(alpha=0.05)
print("lower", repr(frame["mean_ci_lower"].to_numpy()))
print("upper", repr(frame["mean_ci_upper"].to_numpy()))
