//! Prefix subscription sets: which topics a SUB accepts, and which pipes a PUB/XPUB feeds.
//!
//! A topic matches a message when it is a prefix of the message's first frame (the empty topic
//! matches everything). Subscriptions are counted, so subscribing twice needs two cancels.
//! Lookups walk only the prefixes up to the longest topic held.
#![forbid(unsafe_code)]

use std::collections::HashMap;

use bytes::Bytes;

/// Counted prefix subscriptions of one subscriber.
#[derive(Default, Debug)]
pub(crate) struct TopicSet {
    topics: HashMap<Bytes, u32>,
    longest: usize,
    /// References to the empty topic, which matches everything (the common case: no lookup).
    everything: u32,
}

impl TopicSet {
    /// Adds one reference to `topic`; true if it was new.
    pub(crate) fn add(&mut self, topic: &[u8]) -> bool {
        self.longest = self.longest.max(topic.len());
        let count = self
            .topics
            .entry(Bytes::copy_from_slice(topic))
            .or_insert(0);
        *count += 1;
        if topic.is_empty() {
            self.everything = *count;
        }
        *count == 1
    }

    /// Removes one reference to `topic`; true if that was the last one.
    pub(crate) fn remove(&mut self, topic: &[u8]) -> bool {
        let Some(count) = self.topics.get_mut(topic) else {
            return false;
        };
        *count -= 1;
        if topic.is_empty() {
            self.everything = *count;
        }
        if *count > 0 {
            return false;
        }
        self.topics.remove(topic);
        if topic.len() == self.longest {
            self.longest = self.topics.keys().map(|k| k.len()).max().unwrap_or(0);
        }
        true
    }

    /// True if some topic is a prefix of `data`.
    pub(crate) fn matches(&self, data: &[u8]) -> bool {
        if self.topics.is_empty() {
            return false;
        }
        if self.everything > 0 {
            return true;
        }
        let max = self.longest.min(data.len());
        (0..=max).any(|n| self.topics.contains_key(&data[..n]))
    }

    /// Every distinct topic held.
    pub(crate) fn topics(&self) -> impl Iterator<Item = &Bytes> {
        self.topics.keys()
    }

    /// Every topic with its reference count, consuming the set.
    pub(crate) fn into_counts(self) -> impl Iterator<Item = (Bytes, u32)> {
        self.topics.into_iter()
    }

    /// True if no topic is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_matching() {
        let mut t = TopicSet::default();
        assert!(!t.matches(b"anything"));
        t.add(b"weather.");
        assert!(t.matches(b"weather.london"));
        assert!(!t.matches(b"weathe"));
        assert!(!t.matches(b"sports"));
        t.add(b"");
        assert!(t.matches(b"sports"));
    }

    #[test]
    fn counted_subscriptions() {
        let mut t = TopicSet::default();
        assert!(t.add(b"a"));
        assert!(!t.add(b"a"));
        assert!(!t.remove(b"a"));
        assert!(t.matches(b"abc"));
        assert!(t.remove(b"a"));
        assert!(!t.matches(b"abc"));
        assert!(!t.remove(b"zzz"));
    }

    #[test]
    fn longest_shrinks_after_removal() {
        let mut t = TopicSet::default();
        t.add(b"long-topic");
        t.add(b"s");
        t.remove(b"long-topic");
        assert_eq!(t.longest, 1);
        assert!(t.matches(b"sx"));
    }
}
