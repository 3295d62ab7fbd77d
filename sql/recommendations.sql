-- Recommendations: train a collaborative-filtering model on browsing and
-- buying, check it against the most-popular baseline, and use it.
-- Run: ecomsql sql -f sql/recommendations.sql

-- 1. Train (implicit feedback: view = 1, cart = 3, purchase = 5, summed per
--    user and item). Each user's two latest items are held out to measure
--    how well the model predicts what they did next.
CREATE OR REPLACE MODEL recs
OPTIONS (
    model_type = 'matrix_factorization',
    user_col = 'user_id',
    item_col = 'item_id',
    rating_col = 'weight',
    feedback = 'implicit',
    factors = 16,
    iterations = 10,
    regularization = 0.1,
    alpha = 1,
    validation = 'last_n',
    validation_n = 2,
    time_col = 'event_time',
    category_col = 'category',
    seed = 42
) AS
SELECT e.user_id, e.item_id,
       CASE e.event_type WHEN 'purchase' THEN 5 WHEN 'cart' THEN 3 ELSE 1 END AS weight,
       e.event_time, i.category
FROM events e JOIN items i ON i.item_id = e.item_id;

-- 2. Held-out metrics: the model's rows next to the popular_ baseline's.
EVALUATE MODEL recs;

-- 3. Ten recommendations for one user, with what the items are.
SELECT r.rank, r.item_id, i.title, i.category, round(r.score, 3) AS score, r.source
FROM recommend('recs', 10, 42) r
JOIN items i ON i.item_id = r.item_id
ORDER BY r.rank;

-- 4. The same user's top 5 within one category (the model was trained with
--    category_col, so it knows each item's category).
SELECT r.rank, r.item_id, i.title, i.category, round(r.score, 3) AS score
FROM recommend('recs', 5, 42, 'category = electronics') r
JOIN items i ON i.item_id = r.item_id
ORDER BY r.rank;

-- 5. A user the model has never seen gets the most popular items.
SELECT rank, item_id, round(score, 3) AS share_of_users, source
FROM recommend('recs', 5, 999999)
ORDER BY rank;

-- 6. The items most similar to the best seller (item 177), by the cosine of
--    their factors: "customers who liked this also liked".
SELECT s.rank, s.similar_item_id, i.title, i.category, round(s.score, 3) AS cosine
FROM similar_items('recs', 177, 5) s
JOIN items i ON i.item_id = s.similar_item_id
ORDER BY s.rank;

-- 7. Which items would we push, per category, if every user got their top 10?
WITH recommended AS (
    SELECT r.item_id, i.category, i.title
    FROM recommend('recs', 10) r
    JOIN items i ON i.item_id = r.item_id
), counted AS (
    SELECT category, item_id, title, count(*) AS users,
           row_number() OVER (PARTITION BY category ORDER BY count(*) DESC, item_id) AS place
    FROM recommended
    GROUP BY category, item_id, title
)
SELECT category, place, item_id, title, users
FROM counted
WHERE place <= 3
ORDER BY category, place;

-- 8. A shopper who is not in the model yet (a new sign-up who viewed two
--    items) gets personalised recommendations without retraining.
SELECT rank, item_id, round(score, 3) AS score, source
FROM recommend_fold_in('recs', 'SELECT 5000001 AS user_id, item_id FROM items WHERE item_id IN (1, 2)', 5)
ORDER BY rank;
