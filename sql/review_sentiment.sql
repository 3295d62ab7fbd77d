-- Review sentiment with the built-in bilingual model (English and Chinese):
-- sentiment by category and month, the worst aspects per category, and
-- reviews whose text disagrees with their star rating. Then a model trained
-- on this shop's own reviews, with star ratings as (weak) labels, checked
-- against the built-in one on reviews it did not see.
-- Run: ecomsql sql -f sql/review_sentiment.sql

-- 1. Sentiment by category and month: mean score, share of negative reviews,
--    and the mean star rating beside them.
SELECT
    i.category,
    date_trunc('month', r.review_time) AS month,
    count(*) AS reviews,
    round(avg(sentiment(r.review_text)), 3) AS mean_sentiment,
    round(avg(CASE WHEN sentiment_label(r.review_text) = 'negative' THEN 1.0 ELSE 0.0 END), 3) AS negative_share,
    round(avg(r.rating), 2) AS mean_rating
FROM reviews r
JOIN items i ON i.item_id = r.item_id
GROUP BY i.category, date_trunc('month', r.review_time)
ORDER BY i.category, month;

-- 2. The worst aspects per category: mean aspect score over the reviews that
--    mention the aspect (an aspect not mentioned is NULL and not averaged),
--    lowest first. "Why are ratings down in category X?"
WITH aspects AS (
    SELECT i.category, sentiment_aspects(r.review_text) AS a
    FROM reviews r
    JOIN items i ON i.item_id = r.item_id
),
long AS (
    SELECT category, 'quality' AS aspect, a['quality'] AS score FROM aspects
    UNION ALL SELECT category, 'price', a['price'] FROM aspects
    UNION ALL SELECT category, 'delivery', a['delivery'] FROM aspects
    UNION ALL SELECT category, 'service', a['service'] FROM aspects
    UNION ALL SELECT category, 'packaging', a['packaging'] FROM aspects
    UNION ALL SELECT category, 'fit', a['fit'] FROM aspects
),
ranked AS (
    SELECT
        category,
        aspect,
        count(score) AS mentions,
        round(avg(score), 3) AS mean_score,
        row_number() OVER (PARTITION BY category ORDER BY avg(score)) AS worst_rank
    FROM long
    WHERE score IS NOT NULL
    GROUP BY category, aspect
    HAVING count(score) >= 20
)
SELECT category, worst_rank, aspect, mentions, mean_score
FROM ranked
WHERE worst_rank <= 2
ORDER BY category, worst_rank;

-- 3. Reviews whose text disagrees with their stars: 4–5 stars with a clearly
--    negative text, or 1–2 stars with a clearly positive one.
SELECT review_id, rating, language, round(sentiment(review_text), 3) AS sentiment, review_text
FROM reviews
WHERE (rating >= 4 AND sentiment(review_text) <= -0.5)
   OR (rating <= 2 AND sentiment(review_text) >= 0.5)
ORDER BY abs(sentiment(review_text) - (rating - 3) / 2.0) DESC, review_id
LIMIT 20;

-- 4. A model of this shop's own reviews: positive = 4–5 stars, negative =
--    1–2 stars (3 stars left out as ambiguous), trained on 80% of reviews.
CREATE OR REPLACE MODEL review_sentiment
OPTIONS (model_type = 'text_classifier', text_col = 'review_text', label = 'positive',
         validation_fraction = 0)
AS SELECT review_text, rating >= 4 AS positive FROM reviews
   WHERE rating <> 3 AND review_id % 5 <> 0;

-- Held-out reviews: the trained model's metrics, with the built-in model's
-- accuracy and macro-F1 on the same rows (builtin_*).
EVALUATE MODEL review_sentiment
ON (SELECT review_text, rating >= 4 AS positive FROM reviews WHERE rating <> 3 AND review_id % 5 = 0);

-- Both scores side by side on the 3-star reviews the model never saw.
SELECT review_id,
       round(sentiment(review_text), 3) AS builtin,
       round(sentiment('review_sentiment', review_text), 3) AS trained,
       review_text
FROM reviews
WHERE rating = 3
ORDER BY review_id
LIMIT 10;
