-- Purchase propensity: train a logistic regression on the last 30 days of
-- behaviour, check it, explain it, and list the users most likely to buy.
-- Run: ecomsql sql -f sql/purchase_propensity.sql

-- 1. Train (a new version each run; 20% of rows held out for validation).
CREATE OR REPLACE MODEL purchase_propensity
OPTIONS (
    model_type = 'logistic_regression',
    label = 'purchased_next_7d',
    l2 = 1.0,
    class_weight = 'none',
    validation_fraction = 0.2,
    seed = 42
) AS
SELECT views_30d, purchases_30d, reviews_30d, browse_minutes_30d, purchase_minutes_30d, purchased_next_7d
FROM user_features;

-- 2. How good is it on the held-out rows?
EVALUATE MODEL purchase_propensity;

-- 3. What drives it: weights, odds ratios and significance.
SELECT term, round(weight, 4) AS weight, round(std_weight, 4) AS std_weight,
       round(odds_ratio, 3) AS odds_ratio, round(p_value, 4) AS p_value
FROM model_weights('purchase_propensity')
ORDER BY abs(std_weight) DESC;

-- 4. Calibration: predicted against actual purchase rate by decile.
WITH scored AS (
    SELECT purchased_next_7d,
           predict_purchase('purchase_propensity', views_30d, purchases_30d, reviews_30d,
                            browse_minutes_30d, purchase_minutes_30d) AS p
    FROM user_features
)
SELECT ntile AS decile, count(*) AS users, round(avg(p), 3) AS predicted,
       round(avg(CAST(purchased_next_7d AS DOUBLE)), 3) AS actual
FROM (SELECT *, ntile(10) OVER (ORDER BY p) AS ntile FROM scored)
GROUP BY ntile ORDER BY ntile;

-- 5. The 20 users most likely to buy next week, with why (for the CRM team).
SELECT f.user_id, u.segment, u.country,
       round(predict_purchase('purchase_propensity', f.views_30d, f.purchases_30d, f.reviews_30d,
                              f.browse_minutes_30d, f.purchase_minutes_30d), 3) AS propensity,
       f.views_30d, f.purchases_30d, f.purchase_minutes_30d
FROM user_features f JOIN users u USING (user_id)
ORDER BY propensity DESC, f.user_id
LIMIT 20;

-- 6. One user's score, feature by feature (contributions to the logit).
SELECT e['feature'] AS feature, round(e['contribution'], 3) AS contribution
FROM (
    SELECT unnest(explain_purchase('purchase_propensity', views_30d, purchases_30d, reviews_30d,
                                   browse_minutes_30d, purchase_minutes_30d)) AS e
    FROM user_features WHERE user_id = 42
);

-- 7. The same metrics as aggregates, per segment.
SELECT u.segment,
       round(roc_auc(p, purchased_next_7d), 3) AS auc,
       round(log_loss(p, purchased_next_7d), 3) AS log_loss,
       round(brier_score(p, purchased_next_7d), 3) AS brier
FROM (SELECT user_id, purchased_next_7d,
             predict_purchase('purchase_propensity', views_30d, purchases_30d, reviews_30d,
                              browse_minutes_30d, purchase_minutes_30d) AS p
      FROM user_features) s
JOIN users u USING (user_id)
GROUP BY u.segment ORDER BY u.segment;
