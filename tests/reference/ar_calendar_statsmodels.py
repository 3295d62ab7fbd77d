"""Reference values for the calendar slt case (tests/slt/forecast_ar.slt,
model `festive`): statsmodels AutoReg(y, 2, trend='c', exog=X) where X holds
the retail_us festival dummies (thanksgiving, black_friday, cyber_monday,
christmas), on the daily series 2023-11-01 .. 2024-12-20 built by the slt's
query, and its 7-step forecast (2024-12-21 .. 27, Christmas inside).
Run: python tests/reference/ar_calendar_statsmodels.py (statsmodels 0.15.0,
numpy 2.x)."""
import datetime as dt

import numpy as np
from statsmodels.tsa.ar_model import AutoReg

start = dt.date(2023, 11, 1)


def thanksgiving(year):
    d = dt.date(year, 11, 1)
    first_thursday = d + dt.timedelta(days=(3 - d.weekday()) % 7)
    return first_thursday + dt.timedelta(weeks=3)


def dummies(day):
    tg = thanksgiving(day.year)
    return [
        float(day == tg),
        float(day == tg + dt.timedelta(days=1)),
        float(day == tg + dt.timedelta(days=4)),
        float(day.month == 12 and day.day in (24, 25)),
    ]


def value(i, day):
    effect = {
        dt.date(2023, 11, 23): 50, dt.date(2024, 11, 28): 50,
        dt.date(2023, 11, 24): 80, dt.date(2024, 11, 29): 80,
        dt.date(2023, 11, 27): 60, dt.date(2024, 12, 2): 60,
        dt.date(2023, 12, 24): -40, dt.date(2023, 12, 25): -40,
    }.get(day, 0)
    return 200.0 + (i * i * 7919) % 101 + effect


days = [start + dt.timedelta(days=i) for i in range(416)]
assert days[-1] == dt.date(2024, 12, 20)
y = np.array([value(i, d) for i, d in enumerate(days)])
x = np.array([dummies(d) for d in days])
future = [days[-1] + dt.timedelta(days=h) for h in range(1, 8)]
x_oos = np.array([dummies(d) for d in future])
res = AutoReg(y, 2, trend="c", exog=x).fit()
np.set_printoptions(precision=17)
for name, v in zip(res.model.exog_names, res.params):
    print(name, repr(float(v)))
print("sigma2", repr(res.sigma2))
fc = res.predict(start=len(y), end=len(y) + 6, exog_oos=x_oos)
for d, f in zip(future, fc):
    print(d, round(float(f), 6))
