//! The built-in review sentiment model: a lexicon and rules for English and
//! Chinese product reviews, with no training, no network and no randomness.
//!
//! A text is cut into tokens ([`tokenize`]: Chinese runs by jieba, the rest
//! by our own tokenizer), each token is classified against the [`lexicon`],
//! and [`score`] combines them: negation flips and softens the next valenced
//! word, degree words scale it, contrast words weight the clause after them
//! more, capitals and exclamation marks add emphasis. The sum s becomes a
//! score in (−1, 1) as s / √(s² + 6).

pub mod lexicon;
mod score;
mod tokenize;

use std::sync::LazyLock;

pub use score::Analysis;
pub use tokenize::{Language, Token, Tokens};

use lexicon::Lexicon;

/// The aspects `sentiment_aspects` reports, in its struct's field order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aspect {
    Quality = 0,
    Price = 1,
    Delivery = 2,
    Service = 3,
    Packaging = 4,
    Fit = 5,
}

impl Aspect {
    pub const ALL: [Aspect; 6] = [
        Aspect::Quality,
        Aspect::Price,
        Aspect::Delivery,
        Aspect::Service,
        Aspect::Packaging,
        Aspect::Fit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Aspect::Quality => "quality",
            Aspect::Price => "price",
            Aspect::Delivery => "delivery",
            Aspect::Service => "service",
            Aspect::Packaging => "packaging",
            Aspect::Fit => "fit",
        }
    }
}

/// Scores at or above this are 'positive', at or below its negation
/// 'negative' (a single mild word such as "fine" or 一般 stays neutral).
pub const LABEL_THRESHOLD: f64 = 0.35;

/// The label of a score.
pub fn label(score: f64) -> &'static str {
    if score >= LABEL_THRESHOLD {
        "positive"
    } else if score <= -LABEL_THRESHOLD {
        "negative"
    } else {
        "neutral"
    }
}

/// The lexicon and the segmenter, built once per process.
pub struct Analyzer {
    lexicon: Lexicon,
    jieba: jieba_rs::Jieba,
}

static ANALYZER: LazyLock<Analyzer> = LazyLock::new(Analyzer::build);

impl Analyzer {
    /// The shared analyzer (built on first use: loading jieba's dictionary
    /// takes a moment).
    pub fn get() -> &'static Analyzer {
        &ANALYZER
    }

    fn build() -> Self {
        let mut jieba = jieba_rs::Jieba::new();
        // Our words must come out of segmentation whole, whatever the
        // general dictionary would prefer.
        for word in Lexicon::chinese_words() {
            if word.chars().count() > 1 {
                jieba.add_word(word, None, None);
            }
        }
        Self {
            lexicon: Lexicon::new(),
            jieba,
        }
    }

    /// The sentiment of `text` in (−1, 1); 0 for text with no sentiment.
    pub fn score(&self, text: &str, scratch: &mut Scratch) -> f64 {
        self.analyze(text, scratch).score
    }

    /// Score and per-aspect scores.
    pub fn analyze(&self, text: &str, scratch: &mut Scratch) -> Analysis {
        self.tokenize(text, scratch);
        self.analyze_tokens(scratch)
    }

    /// Cut `text` into tokens, left in `scratch` (see [`Scratch::tokens`]):
    /// the trained text model hashes the same tokens the lexicon reads.
    pub fn tokenize(&self, text: &str, scratch: &mut Scratch) {
        tokenize::tokens(&self.jieba, text, &mut scratch.tokens);
    }

    /// [`Analyzer::analyze`] of the text last tokenized into `scratch`.
    pub fn analyze_tokens(&self, scratch: &mut Scratch) -> Analysis {
        score::classify(&self.lexicon, &scratch.tokens, &mut scratch.entries);
        score::combine(&scratch.entries, &mut scratch.items)
    }
}

/// Buffers reused from one text to the next, so scoring a column allocates
/// only what segmentation does.
#[derive(Default)]
pub struct Scratch {
    tokens: tokenize::Tokens,
    entries: Vec<score::Classified>,
    items: Vec<score::Item>,
}

impl Scratch {
    /// The tokens of the text last tokenized.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }
}

/// The language of a text: `zh` when it has at least as many Han
/// characters as Latin words, `en` when it has Latin words, else `und`.
pub fn detect_language(text: &str) -> Language {
    tokenize::detect_language(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> f64 {
        Analyzer::get().score(text, &mut Scratch::default())
    }

    fn aspect(text: &str, a: Aspect) -> Option<f64> {
        Analyzer::get()
            .analyze(text, &mut Scratch::default())
            .aspects[a as usize]
    }

    #[test]
    fn english_polarity_negation_and_degree() {
        assert!(s("Great product") > 0.5);
        assert!(s("terrible product") < -0.5);
        assert_eq!(s(""), 0.0);
        assert_eq!(s("SKU 12345"), 0.0);
        // Negation flips, and "not bad" is milder than "good".
        assert!(s("not good") < 0.0);
        assert!(s("not bad at all") > 0.0);
        assert!(s("not bad at all") < s("good"));
        assert!(s("didn't work") < 0.0);
        assert!(s("would never buy again") < 0.0);
        assert!(s("would buy again") > 0.0);
        assert!(s("never had a problem") > 0.0);
        assert!(s("no complaints") > 0.0);
        assert!(s("not worth it") < 0.0);
        assert!(s("not as described") < 0.0 && s("exactly as described") > 0.0);
        // Intensifiers raise, dampeners lower, "not very" softens.
        assert!(s("very good") > s("good"));
        assert!(s("extremely slow delivery") < s("slow delivery"));
        assert!(s("slightly slow delivery") > s("slow delivery"));
        assert!(s("slightly slow delivery") < 0.0);
        assert!(s("not very good") < 0.0 && s("not very good") > s("not good"));
    }

    #[test]
    fn english_emphasis_contrast_and_emoji() {
        assert!(s("good!!!") > s("good"));
        assert!(s("bad!!") < s("bad"));
        assert!(s("the delivery was GREAT") > s("the delivery was great"));
        // The clause after "but" counts more.
        assert!(s("Great quality but slow delivery") < 0.0);
        assert!(s("Slow delivery but great quality") > 0.0);
        assert!(s("Although the delivery was slow, the quality is great") > 0.0);
        assert!(s("love it 😍") > s("love it"));
        assert!(s("👎") < 0.0 && s("👍👍") > 0.0);
        assert!(s("arrived broken :(") < s("arrived broken"));
        assert!(s("high quality") > 0.0 && s("low quality") < 0.0);
        assert!(s("high price") < 0.0 && s("great value for money") > 0.0);
    }

    #[test]
    fn chinese_rules() {
        assert!(s("质量很好") > 0.5);
        assert!(s("质量差") < -0.4);
        assert!(s("物流非常快") > s("物流快"));
        assert!(s("物流快") > s("物流有点慢") || s("物流有点慢") < 0.0);
        assert!(s("物流有点慢") > s("物流很慢") && s("物流有点慢") < 0.0);
        // Negation: 不 / 没有 / 没 flip.
        assert!(s("不好用") < 0.0);
        assert!(s("没有色差") > 0.0);
        assert!(s("不满意") < 0.0);
        assert!(s("一点也不差") > 0.0);
        assert!(s("不太好") < 0.0 && s("不太好") > s("不好"));
        // Contrast: what follows 但是 decides.
        assert!(s("质量不错，但是物流太慢了") < 0.0);
        assert!(s("物流慢，但是质量非常好") > 0.0);
        assert!(s("虽然价格贵，但是质量很好") > 0.0);
        // Value words depend on their noun.
        assert!(s("性价比高") > 0.0 && s("性价比低") < 0.0);
        assert!(s("价格高") < 0.0);
        assert!(s("差评！") < s("差评"));
        assert!(s("再也不买了") < 0.0 && s("会回购的") > 0.0);
        assert!(s("不值") < 0.0 && s("掉色") < 0.0 && s("正品") > 0.0);
        assert!(s("客服态度差") < 0.0);
    }

    #[test]
    fn mixed_chinese_and_english() {
        assert!(s("quality不错") > 0.0);
        assert!(s("物流很fast") > 0.0);
        assert!(s("性价比high") > 0.0);
        assert!(s("size偏大，not good") < 0.0);
    }

    #[test]
    fn aspects_follow_their_nouns() {
        let text = "Great quality but the delivery was slow";
        assert!(aspect(text, Aspect::Quality).is_some_and(|v| v > 0.0));
        assert!(aspect(text, Aspect::Delivery).is_some_and(|v| v < 0.0));
        assert_eq!(aspect(text, Aspect::Fit), None);
        let zh = "质量很好，物流太慢，客服态度热情，包装破损，尺码偏小，性价比高";
        assert!(aspect(zh, Aspect::Quality).is_some_and(|v| v > 0.0));
        assert!(aspect(zh, Aspect::Delivery).is_some_and(|v| v < 0.0));
        assert!(aspect(zh, Aspect::Service).is_some_and(|v| v > 0.0));
        assert!(aspect(zh, Aspect::Packaging).is_some_and(|v| v < 0.0));
        assert!(aspect(zh, Aspect::Fit).is_some_and(|v| v < 0.0));
        assert!(aspect(zh, Aspect::Price).is_some_and(|v| v > 0.0));
        // A word that implies its aspect needs no noun.
        assert!(aspect("flimsy and overpriced", Aspect::Quality).is_some_and(|v| v < 0.0));
        assert!(aspect("flimsy and overpriced", Aspect::Price).is_some_and(|v| v < 0.0));
    }

    #[test]
    fn garbage_input_is_bounded() {
        let long = "very good ".repeat(100_000);
        assert!(s(&long) > 0.99);
        let zh = "质量很好但是物流慢".repeat(20_000);
        assert!(s(&zh).is_finite());
        for text in [
            "🤬🤬🤬",
            "!!!???",
            "\u{0}\u{FFFF}\u{10FFFF}",
            "Ω≈ç√∫",
            "a\u{301}\u{301}",
            ":::))",
            "<3<3<3",
        ] {
            let v = s(text);
            assert!((-1.0..=1.0).contains(&v), "{text}: {v}");
        }
        assert_eq!(label(0.0), "neutral");
        assert_eq!(label(s("great")), "positive");
        assert_eq!(label(s("差评")), "negative");
    }
}
