//! Fractional-index keys for ordered lists: a key strictly between any two keys always exists,
//! so moving an item rewrites that item alone. Keys use the digits `0-9a-z`, compare bytewise
//! and never end in `0` (which keeps room below every key).

const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const BASE: usize = DIGITS.len();
/// Past this length the list is renumbered; random moves reach it only rarely.
pub const MAX_KEY_LEN: usize = 48;

fn value(digit: u8) -> usize {
    DIGITS.iter().position(|&d| d == digit).unwrap_or(0)
}

/// A key that sorts after `before` and before `after` (`None`: open end). Requires
/// `before < after` when both are given.
pub fn between(before: Option<&str>, after: Option<&str>) -> String {
    let mut key = Vec::new();
    midpoint(
        before.unwrap_or_default().as_bytes(),
        after.map(str::as_bytes),
        &mut key,
    );
    String::from_utf8(key).unwrap_or_default()
}

fn midpoint(a: &[u8], b: Option<&[u8]>, out: &mut Vec<u8>) {
    if let Some(b) = b {
        // Copy the common prefix, reading missing digits of `a` as zeros.
        let shared = b
            .iter()
            .enumerate()
            .take_while(|&(i, &digit)| a.get(i).copied().unwrap_or(b'0') == digit)
            .count();
        if shared > 0 {
            out.extend_from_slice(&b[..shared]);
            return midpoint(a.get(shared..).unwrap_or_default(), Some(&b[shared..]), out);
        }
    }
    let low = a.first().map_or(0, |&d| value(d));
    let high = b.and_then(|b| b.first()).map_or(BASE, |&d| value(d));
    if high - low > 1 {
        out.push(DIGITS[(low + high) / 2]);
    } else if let Some(b) = b.filter(|b| b.len() > 1) {
        out.push(b[0]);
    } else {
        out.push(DIGITS[low]);
        midpoint(a.get(1..).unwrap_or_default(), None, out);
    }
}

/// `count` evenly spread keys, for renumbering a whole list.
pub fn spread(count: usize) -> Vec<String> {
    let mut keys = Vec::with_capacity(count);
    let mut previous: Option<String> = None;
    for _ in 0..count {
        let key = between(previous.as_deref(), None);
        previous = Some(key.clone());
        keys.push(key);
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(before: Option<&str>, after: Option<&str>) -> String {
        let key = between(before, after);
        if let Some(before) = before {
            assert!(before < key.as_str(), "{before} < {key}");
        }
        if let Some(after) = after {
            assert!(key.as_str() < after, "{key} < {after}");
        }
        assert!(!key.ends_with('0'), "{key}");
        key
    }

    #[test]
    fn finds_room_everywhere() {
        check(None, None);
        check(Some("i"), None);
        check(None, Some("i"));
        check(Some("i"), Some("j"));
        check(Some("i"), Some("i1"));
        check(Some("z"), None);
        check(None, Some("01"));
        check(Some("a"), Some("a01"));
    }

    #[test]
    fn survives_many_inserts_at_one_spot() {
        let (low, mut high) = ("a".to_owned(), "b".to_owned());
        for _ in 0..200 {
            high = check(Some(&low), Some(&high));
        }
        let mut low = "a".to_owned();
        for _ in 0..200 {
            low = check(Some(&low), Some("b"));
        }
    }

    #[test]
    fn spread_keys_are_ascending() {
        let keys = spread(100);
        assert!(keys.windows(2).all(|pair| pair[0] < pair[1]));
    }
}
