//! Review texts whose wording follows the star rating: praise and complaints
//! per aspect, negation ("not worth it", "不值"), degree words, contrast
//! ("but", "但是") in mixed reviews, emoji, and some code-switching in
//! Chinese reviews.

use rand::Rng;
use rand::seq::IndexedRandom;

/// Per aspect: (noun, praising adjectives, complaining adjectives). English
/// phrases are "adjective noun" so a degree word can go in front ("very fast
/// delivery"); Chinese ones are "noun + degree + adjective" (物流 + 非常 + 快).
const EN_ASPECTS: &[(&str, &[&str], &[&str])] = &[
    (
        "quality",
        &["great", "excellent", "solid"],
        &["poor", "cheap", "flimsy"],
    ),
    ("value", &["good", "great", "fair"], &["poor", "terrible"]),
    ("delivery", &["fast", "quick", "speedy"], &["slow", "late"]),
    (
        "customer service",
        &["helpful", "friendly"],
        &["rude", "unhelpful"],
    ),
    (
        "packaging",
        &["neat", "careful", "sturdy"],
        &["damaged", "sloppy"],
    ),
    ("fit", &["perfect", "comfortable"], &["tight", "awkward"]),
];
/// Whole clauses that carry their own polarity.
const EN_GOOD_CLAUSES: &[&str] = &[
    "works perfectly",
    "arrived a day early",
    "love it",
    "exactly as described",
];
const EN_BAD_CLAUSES: &[&str] = &[
    "stopped working after a week",
    "arrived two weeks late",
    "broke on day two",
];
/// Negated forms: praise denied reads negative, complaint denied positive.
const EN_NEGATED_PRAISE: &[&str] = &[
    "not worth it",
    "not as described",
    "didn't work",
    "not comfortable at all",
    "would never buy again",
];
const EN_NEGATED_COMPLAINT: &[&str] = &["not bad at all", "no complaints", "never had a problem"];
const EN_INTENSIFIERS: &[&str] = &["very", "really", "extremely", "absolutely"];
const EN_DAMPENERS: &[&str] = &["slightly", "a bit", "somewhat"];
const EN_CONTRAST: &[&str] = &["but", "however"];
const EN_HAPPY: &[&str] = &["😍", "👍", ":)", "❤️"];
const EN_ANGRY: &[&str] = &["😡", "👎", ":(", "🤬"];

const ZH_ASPECTS: &[(&str, &[&str], &[&str])] = &[
    ("质量", &["好", "不错", "过硬"], &["差", "一般"]),
    ("性价比", &["高"], &["低"]),
    ("物流", &["快", "给力"], &["慢"]),
    ("客服态度", &["好", "热情"], &["差", "冷淡"]),
    ("包装", &["完好", "精美"], &["破损", "简陋"]),
    ("尺码", &["合适", "标准"], &["偏小", "偏大"]),
];
const ZH_GOOD_CLAUSES: &[&str] = &["正品", "物超所值", "和描述一致"];
const ZH_BAD_CLAUSES: &[&str] = &["掉色", "用了一周就坏了", "有色差"];
const ZH_NEGATED_PRAISE: &[&str] = &["不好用", "没有描述的那么好", "不值", "不推荐"];
const ZH_NEGATED_COMPLAINT: &[&str] = &["没有色差", "一点也不差", "没有异味"];
const ZH_INTENSIFIERS: &[&str] = &["很", "非常", "太", "特别"];
const ZH_DAMPENERS: &[&str] = &["有点", "稍微", "略"];
const ZH_CONTRAST: &[&str] = &["但是", "不过", "可是"];
const ZH_CLOSING_GOOD: &[&str] = &["非常满意", "好评", "会回购的", "推荐购买"];
const ZH_CLOSING_BAD: &[&str] = &["差评", "要退货", "再也不买了", "失望"];
/// Code-switched fragments seen in real Chinese reviews.
const ZH_MIXED: &[&str] = &["quality不错", "size偏大", "物流很fast", "性价比high"];

fn pick<'a, R: Rng>(rng: &mut R, options: &[&'a str]) -> &'a str {
    options.choose(rng).copied().unwrap_or("")
}

/// "fast delivery", "very fast delivery", "a bit slow delivery".
fn en_phrase<R: Rng>(rng: &mut R, positive: bool, degree: Option<&str>) -> String {
    let (noun, pos, neg) = EN_ASPECTS[rng.random_range(0..EN_ASPECTS.len())];
    let adjective = pick(rng, if positive { pos } else { neg });
    match degree {
        Some(d) => format!("{d} {adjective} {noun}"),
        None => format!("{adjective} {noun}"),
    }
}

/// 物流快, 物流非常快, 物流有点慢.
fn zh_phrase<R: Rng>(rng: &mut R, positive: bool, degree: Option<&str>) -> String {
    let (noun, pos, neg) = ZH_ASPECTS[rng.random_range(0..ZH_ASPECTS.len())];
    let adjective = pick(rng, if positive { pos } else { neg });
    format!("{noun}{}{adjective}", degree.unwrap_or(""))
}

/// A review of `rating` stars (1..=5) in English or Chinese.
pub fn compose<R: Rng>(rng: &mut R, rating: i32, zh: bool) -> String {
    if zh {
        compose_zh(rng, rating)
    } else {
        compose_en(rng, rating)
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn compose_en<R: Rng>(rng: &mut R, rating: i32) -> String {
    let mut text = match rating {
        5 => {
            let degree = pick(rng, EN_INTENSIFIERS);
            let first = en_phrase(rng, true, Some(degree));
            let second = match rng.random_range(0..3) {
                0 => pick(rng, EN_NEGATED_COMPLAINT).to_string(),
                1 => pick(rng, EN_GOOD_CLAUSES).to_string(),
                _ => en_phrase(rng, true, None),
            };
            let bang = if rng.random_bool(0.4) { "!" } else { "." };
            format!("{}, {second}{bang}", capitalise(&first))
        }
        4 => {
            let good = capitalise(&en_phrase(rng, true, None));
            if rng.random_bool(0.5) {
                let degree = pick(rng, EN_DAMPENERS);
                let bad = en_phrase(rng, false, Some(degree));
                format!("{good}, {} {bad}.", pick(rng, EN_CONTRAST))
            } else {
                format!("{good}. {}.", capitalise(pick(rng, EN_NEGATED_COMPLAINT)))
            }
        }
        3 => {
            let good = en_phrase(rng, true, None);
            let bad = en_phrase(rng, false, None);
            if rng.random_bool(0.5) {
                format!(
                    "{}, {} {bad}. It's okay.",
                    capitalise(&good),
                    pick(rng, EN_CONTRAST)
                )
            } else {
                format!(
                    "{}, {} {good}. Average.",
                    capitalise(&bad),
                    pick(rng, EN_CONTRAST)
                )
            }
        }
        2 => {
            let bad = capitalise(&en_phrase(rng, false, None));
            if rng.random_bool(0.5) {
                format!("{bad}, {}.", pick(rng, EN_NEGATED_PRAISE))
            } else {
                let good = en_phrase(rng, true, None);
                format!(
                    "{}, {} {}.",
                    capitalise(&good),
                    pick(rng, EN_CONTRAST),
                    bad.to_lowercase()
                )
            }
        }
        _ => {
            let degree = pick(rng, EN_INTENSIFIERS);
            let first = en_phrase(rng, false, Some(degree));
            let second = if rng.random_bool(0.5) {
                pick(rng, EN_NEGATED_PRAISE)
            } else {
                pick(rng, EN_BAD_CLAUSES)
            };
            let shout = if rng.random_bool(0.3) {
                second.to_uppercase()
            } else {
                second.to_string()
            };
            format!("{}, {shout}!!", capitalise(&first))
        }
    };
    if rng.random_bool(0.2) {
        let emoji = if rating >= 4 {
            pick(rng, EN_HAPPY)
        } else if rating <= 2 {
            pick(rng, EN_ANGRY)
        } else {
            ""
        };
        if !emoji.is_empty() {
            text.push(' ');
            text.push_str(emoji);
        }
    }
    text
}

fn compose_zh<R: Rng>(rng: &mut R, rating: i32) -> String {
    let mut text = match rating {
        5 => {
            let degree = pick(rng, ZH_INTENSIFIERS);
            let first = zh_phrase(rng, true, Some(degree));
            let second = if rng.random_bool(0.4) {
                pick(rng, ZH_GOOD_CLAUSES).to_string()
            } else {
                zh_phrase(rng, true, None)
            };
            format!("{first}，{second}，{}！", pick(rng, ZH_CLOSING_GOOD))
        }
        4 => {
            let good = zh_phrase(rng, true, None);
            if rng.random_bool(0.5) {
                let degree = pick(rng, ZH_DAMPENERS);
                format!(
                    "{good}，{}{}。",
                    pick(rng, ZH_CONTRAST),
                    zh_phrase(rng, false, Some(degree))
                )
            } else {
                format!("{good}，{}。", pick(rng, ZH_NEGATED_COMPLAINT))
            }
        }
        3 => {
            let good = zh_phrase(rng, true, None);
            let bad = zh_phrase(rng, false, None);
            if rng.random_bool(0.5) {
                format!("{good}，{}{bad}，一般吧。", pick(rng, ZH_CONTRAST))
            } else {
                format!("{bad}，{}{good}，还行。", pick(rng, ZH_CONTRAST))
            }
        }
        2 => format!(
            "{}，{}。",
            zh_phrase(rng, false, None),
            pick(rng, ZH_NEGATED_PRAISE)
        ),
        _ => {
            let degree = pick(rng, ZH_INTENSIFIERS);
            let first = zh_phrase(rng, false, Some(degree));
            let second = if rng.random_bool(0.5) {
                pick(rng, ZH_NEGATED_PRAISE)
            } else {
                pick(rng, ZH_BAD_CLAUSES)
            };
            format!("{first}，{second}，{}！", pick(rng, ZH_CLOSING_BAD))
        }
    };
    if rng.random_bool(0.1) {
        text.push(' ');
        text.push_str(pick(rng, ZH_MIXED));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn wording_follows_rating() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..200 {
            let five = compose(&mut rng, 5, false);
            let one = compose(&mut rng, 1, false);
            assert!(
                EN_INTENSIFIERS
                    .iter()
                    .any(|w| five.to_lowercase().starts_with(w)),
                "{five}"
            );
            let one = one.to_lowercase();
            assert!(
                EN_NEGATED_PRAISE
                    .iter()
                    .chain(EN_BAD_CLAUSES)
                    .any(|w| one.contains(w)),
                "{one}"
            );
            let zh_one = compose(&mut rng, 1, true);
            assert!(
                ZH_CLOSING_BAD.iter().any(|w| zh_one.contains(w)),
                "{zh_one}"
            );
        }
    }
}
