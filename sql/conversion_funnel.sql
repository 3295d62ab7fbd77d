-- The view → cart → purchase funnel per category and month: how many
-- sessions reached each step, and the step-to-step conversion rates.
-- Run: ecomsql sql -f sql/conversion_funnel.sql
WITH session_steps AS (
    SELECT
        e.session_id,
        i.category,
        date_trunc('month', min(e.event_time)) AS month,
        max(CASE WHEN e.event_type = 'view' THEN 1 ELSE 0 END) AS viewed,
        max(CASE WHEN e.event_type = 'cart' THEN 1 ELSE 0 END) AS carted,
        max(CASE WHEN e.event_type = 'purchase' THEN 1 ELSE 0 END) AS purchased
    FROM events e
    JOIN items i ON i.item_id = e.item_id
    GROUP BY e.session_id, i.category
)
SELECT
    category,
    month,
    sum(viewed) AS sessions_viewed,
    sum(carted) AS sessions_carted,
    sum(purchased) AS sessions_purchased,
    round(sum(carted) * 1.0 / nullif(sum(viewed), 0), 4) AS view_to_cart,
    round(sum(purchased) * 1.0 / nullif(sum(carted), 0), 4) AS cart_to_purchase
FROM session_steps
GROUP BY category, month
ORDER BY category, month;
