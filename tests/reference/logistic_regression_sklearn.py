"""Reference values for tests/it/models.rs::matches_scikit_learn.

Run: python3 tests/reference/logistic_regression_sklearn.py
(with scikit-learn and numpy installed; the values in the test were produced
with scikit-learn 1.9.1 and numpy 2.4.6 on 2026-12-03).

The data set is the one the test builds in SQL:
  x1 = (i*37 % 17) / 3, x2 = (i*11 % 7) - 3, x3 = (i % 3 = 0),
  channel = web | app | store by i % 4, y = ((i*13 % 5) < 2) XOR (x1 > 3),
  i = 1..200.
Numeric and boolean features are standardised (population sd, like
StandardScaler), the text feature is one-hot without scaling, the intercept
is not penalised, and l2 = 0.5 means C = 1 / 0.5.
"""
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.preprocessing import StandardScaler

i = np.arange(1, 201)
x1 = (i * 37 % 17) / 3.0
x2 = (i * 11 % 7) - 3.0
x3 = (i % 3 == 0).astype(float)
channel = np.where(i % 4 == 0, "web", np.where(i % 4 == 1, "app", "store"))
y = (((i * 13 % 5) < 2) != (x1 > 3)).astype(int)

numeric = StandardScaler().fit_transform(np.column_stack([x1, x2, x3]))
levels = ["store", "web", "app"]
onehot = np.column_stack([(channel == level).astype(float) for level in levels])
X = np.column_stack([numeric, onehot])

model = LogisticRegression(C=1 / 0.5, solver="newton-cg", tol=1e-14, max_iter=10000)
model.fit(X, y)
p = model.predict_proba(X)[:, 1]
names = ["x1", "x2", "x3"] + [f"channel={level}" for level in levels]
print("intercept", repr(model.intercept_[0]))
for name, coef in zip(names, model.coef_[0]):
    print(name, repr(coef))
print("log_loss", repr(log_loss(y, p)))
print("roc_auc", repr(roc_auc_score(y, p)))
