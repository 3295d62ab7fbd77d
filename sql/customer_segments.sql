-- Revenue, order frequency and basket size per customer segment and country
-- (a daily report for the marketing team).
-- Run: ecomsql sql -f sql/customer_segments.sql --format csv --output segments.csv
SELECT
    u.segment,
    u.country,
    count(DISTINCT u.user_id) AS customers,
    count(o.order_id) AS orders,
    coalesce(sum(o.revenue), 0) AS revenue,
    round(count(o.order_id) * 1.0 / count(DISTINCT u.user_id), 2) AS orders_per_customer,
    round(avg(o.revenue), 2) AS avg_order_value
FROM users u
LEFT JOIN orders o ON o.user_id = u.user_id
GROUP BY u.segment, u.country
ORDER BY revenue DESC;
