-- Weekly revenue and units per category, with the week-over-week change.
-- Run: ecomsql sql -f sql/revenue_by_category_week.sql
SELECT
    category,
    date_trunc('week', day) AS week,
    sum(units) AS units,
    sum(revenue) AS revenue,
    round(
        100.0 * (sum(revenue) - lag(sum(revenue)) OVER (PARTITION BY category ORDER BY date_trunc('week', day)))
        / lag(sum(revenue)) OVER (PARTITION BY category ORDER BY date_trunc('week', day)),
        1
    ) AS revenue_change_pct
FROM daily_sales
GROUP BY category, date_trunc('week', day)
ORDER BY category, week;
