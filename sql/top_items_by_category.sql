-- The five best-selling items of each category, with their review score.
-- Run: ecomsql sql -f sql/top_items_by_category.sql
WITH item_sales AS (
    SELECT item_id, sum(quantity) AS units, sum(revenue) AS revenue, count(DISTINCT user_id) AS buyers
    FROM orders
    GROUP BY item_id
),
item_reviews AS (
    SELECT item_id, avg(rating) AS avg_rating, count(*) AS reviews
    FROM reviews
    GROUP BY item_id
),
ranked AS (
    SELECT
        i.category,
        i.item_id,
        i.title,
        i.title_zh,
        s.units,
        s.revenue,
        s.buyers,
        round(r.avg_rating, 2) AS avg_rating,
        coalesce(r.reviews, 0) AS reviews,
        row_number() OVER (PARTITION BY i.category ORDER BY s.revenue DESC, i.item_id) AS rank
    FROM item_sales s
    JOIN items i ON i.item_id = s.item_id
    LEFT JOIN item_reviews r ON r.item_id = s.item_id
)
SELECT * FROM ranked WHERE rank <= 5 ORDER BY category, rank;
