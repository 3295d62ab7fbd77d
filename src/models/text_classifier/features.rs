//! Text → sparse feature vector by the hashing trick: word n-grams of the
//! sentiment tokenizer's tokens (jieba words for Chinese), character
//! n-grams of Latin words and of Han runs (they catch the compounds and
//! spellings segmentation splits differently), and the built-in lexicon
//! score as one dense feature. No vocabulary is stored: a feature's index
//! is its hash, so scoring needs only the weights.

use crate::models::training_data::mix;
use crate::sentiment::{Analyzer, Scratch};

/// Index of the lexicon-score feature; hashed features use 1..dim.
pub const LEXICON_FEATURE: u32 = 0;

// Seeds that keep the kinds of feature apart in the hash space.
const WORD_SEED: u64 = 0x5749_4F52_4453_0001;
const CHAR_SEED: u64 = 0x4348_4152_5300_0002;

/// How texts become features; stored in the model's options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Featurizer {
    /// The feature space has 2^hash_bits entries.
    pub hash_bits: u32,
    /// Word n-grams of lengths 1..=word_ngrams.
    pub word_ngrams: usize,
    /// Character n-grams of lengths 2..=char_ngrams (0 or 1: none).
    pub char_ngrams: usize,
    /// Add the built-in sentiment score as a feature.
    pub lexicon_feature: bool,
}

/// One text's features, and its built-in score (for the model's baseline).
#[derive(Default)]
pub struct FeatureScratch {
    text: Scratch,
    hashes: Vec<u64>,
    run: Vec<u32>,
    pub features: Vec<(u32, f32)>,
}

impl Featurizer {
    pub fn dim(&self) -> usize {
        1 << self.hash_bits
    }

    /// Fill `scratch.features` with `text`'s features, sorted by index,
    /// hashed part scaled to unit length; returns the built-in score.
    pub fn features(&self, text: &str, scratch: &mut FeatureScratch) -> f64 {
        let analyzer = Analyzer::get();
        analyzer.tokenize(text, &mut scratch.text);
        scratch.hashes.clear();
        scratch.run.clear();
        let tokens = scratch.text.tokens();
        let n = self.word_ngrams.clamp(1, 3);
        let mut previous = [0_u64; 2];
        for (i, token) in tokens.list.iter().enumerate() {
            let word = tokens.get(token);
            let h = word.bytes().fold(WORD_SEED, |h, b| mix(h, u64::from(b)));
            scratch.hashes.push(h);
            if n >= 2 && i >= 1 {
                scratch.hashes.push(mix(previous[0], h));
            }
            if n >= 3 && i >= 2 {
                scratch.hashes.push(mix(mix(previous[1], previous[0]), h));
            }
            previous = [h, previous[0]];
            if self.char_ngrams >= 2 {
                if token.han {
                    scratch.run.extend(word.chars().map(u32::from));
                } else {
                    char_ngrams(&scratch.run, self.char_ngrams, &mut scratch.hashes);
                    scratch.run.clear();
                    if word.chars().any(char::is_alphabetic) {
                        // Word boundaries as marks, so prefixes and suffixes
                        // differ from the same letters inside a word.
                        scratch.run.push(u32::from('<'));
                        scratch.run.extend(word.chars().map(u32::from));
                        scratch.run.push(u32::from('>'));
                        char_ngrams(&scratch.run, self.char_ngrams, &mut scratch.hashes);
                        scratch.run.clear();
                    }
                }
            }
        }
        char_ngrams(&scratch.run, self.char_ngrams, &mut scratch.hashes);

        let mask = (self.dim() - 1) as u64;
        let out = &mut scratch.features;
        out.clear();
        out.extend(scratch.hashes.iter().map(|h| {
            // Index 0 is the lexicon feature's: fold it onto 1.
            (((h & mask) as u32).max(1), 1.0_f32)
        }));
        out.sort_unstable_by_key(|(i, _)| *i);
        out.dedup_by(|next, kept| {
            if next.0 == kept.0 {
                kept.1 += next.1;
                true
            } else {
                false
            }
        });
        let norm = out.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            out.iter_mut().for_each(|(_, v)| *v /= norm);
        }
        let score = analyzer.analyze_tokens(&mut scratch.text).score;
        if self.lexicon_feature && score != 0.0 {
            out.insert(0, (LEXICON_FEATURE, score as f32));
        }
        score
    }
}

fn char_ngrams(chars: &[u32], max: usize, out: &mut Vec<u64>) {
    for len in 2..=max {
        for window in chars.windows(len) {
            out.push(
                window
                    .iter()
                    .fold(mix(CHAR_SEED, len as u64), |h, &c| mix(h, u64::from(c))),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn featurizer() -> Featurizer {
        Featurizer {
            hash_bits: 18,
            word_ngrams: 2,
            char_ngrams: 3,
            lexicon_feature: true,
        }
    }

    fn features(text: &str) -> (Vec<(u32, f32)>, f64) {
        let mut scratch = FeatureScratch::default();
        let score = featurizer().features(text, &mut scratch);
        (scratch.features.clone(), score)
    }

    #[test]
    fn features_are_sorted_unit_length_and_carry_the_lexicon_score() {
        let (f, score) = features("Great quality, fast delivery!");
        assert!(score > 0.5);
        assert_eq!(f[0], (LEXICON_FEATURE, score as f32));
        assert!(f.windows(2).all(|w| w[0].0 < w[1].0));
        let norm: f32 = f[1..].iter().map(|(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
        assert!(f.iter().all(|(i, _)| (*i as usize) < featurizer().dim()));
    }

    #[test]
    fn word_and_character_ngrams_are_counted() {
        // "good": 1 word; "<good>" has 5 bigrams and 4 trigrams.
        let (f, _) = features("good");
        assert_eq!(f.len() - 1, 10);
        // Han run 质量好, cut 质量 / 好: 2 words, 1 word bigram, 2 char
        // bigrams, 1 char trigram.
        let (f, _) = features("质量好");
        assert_eq!(f.len() - 1, 6);
        // Word bigrams join "not" and "good".
        let hashed = |text: &str| {
            features(text)
                .0
                .iter()
                .filter(|(i, _)| *i != LEXICON_FEATURE)
                .count()
        };
        assert_eq!(hashed("not good"), hashed("good") + hashed("not") + 1);
    }

    #[test]
    fn texts_without_tokens_have_no_features() {
        for text in ["", "   ", "？！"] {
            let (f, score) = features(text);
            assert!(f.iter().all(|(i, _)| *i != LEXICON_FEATURE));
            assert_eq!(score, 0.0);
            if text.trim().is_empty() {
                assert!(f.is_empty());
            }
        }
    }

    #[test]
    fn same_text_same_features() {
        assert_eq!(features("物流很快，好评"), features("物流很快，好评"));
        assert_ne!(features("物流很快").0, features("物流很慢").0);
    }
}
