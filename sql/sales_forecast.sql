-- Sales forecast: one autoregressive model per category, 30 days ahead with
-- 95% intervals, next to what the same days sold last year.
-- Run: ecomsql sql -f sql/sales_forecast.sql

-- 1. Fit (p chosen by AIC up to 28 lags per category; weekly seasonality
--    removed by a seasonal difference of period 7).
CREATE OR REPLACE MODEL category_sales
OPTIONS (
    model_type = 'ar',
    time_col = 'day',
    value_col = 'revenue',
    series_col = 'category',
    p = 'auto',
    max_p = 28,
    seasonal_difference = 1,
    seasonal_period = 7
) AS
SELECT day, category, revenue FROM daily_sales;

-- 2. Per category: the order chosen and the residual spread.
SELECT property, value FROM model_info('category_sales') WHERE property LIKE 'metric.%';

-- 2b. How good it was: the rolling-origin backtest CREATE MODEL ran
--     (3 folds of 30 days), per category and overall (series NULL).
EVALUATE MODEL category_sales OPTIONS (by_series = true);

-- 3. The next 30 days, per category, with 95% intervals.
SELECT series AS category, ts AS day, round(forecast, 0) AS revenue,
       round(lower, 0) AS low, round(upper, 0) AS high, method
FROM forecast_ar('category_sales', 30)
ORDER BY category, day;

-- 4. Forecast against the same days last year, per category.
WITH f AS (
    SELECT series AS category, ts AS day, forecast FROM forecast_ar('category_sales', 30)
)
SELECT f.category,
       round(sum(f.forecast), 0) AS forecast_30d,
       round(sum(CAST(s.revenue AS DOUBLE)), 0) AS same_days_last_year,
       round(sum(f.forecast) / sum(CAST(s.revenue AS DOUBLE)) - 1, 3) AS change
FROM f
JOIN daily_sales s
  ON s.category = f.category AND s.day = f.day - INTERVAL '1 year'
GROUP BY f.category
ORDER BY f.category;
