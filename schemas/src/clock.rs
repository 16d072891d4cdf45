//! Wall-clock time as records carry it (`at_ms`: milliseconds since the Unix
//! epoch). One definition, so every crate stamps and compares alike.

/// Now, in milliseconds since the Unix epoch; 0 if the clock reads before 1970.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn now_is_after_this_code_was_written() {
        // 2026-01-01T00:00:00Z: a clock that reads earlier is broken, and so is a unit mix-up (s or µs).
        let now = super::now_ms();
        assert!(now > 1_767_225_600_000 && now < 10_000_000_000_000, "{now}");
    }
}
