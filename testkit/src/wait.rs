//! Waiting for a condition with a deadline, instead of sleeping a guess.

use std::future::Future;
use std::time::Duration;

/// Poll `check` until it returns `Some`, failing after `deadline` with `what`.
/// A check that itself never answers (a request to a wedged server) fails at
/// the same deadline: a wait is bounded whatever it waits on.
pub async fn until<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let end = tokio::time::Instant::now() + deadline;
    loop {
        match tokio::time::timeout_at(end, check()).await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(_) => anyhow::bail!("timed out after {deadline:?} waiting for {what} (the last check did not answer)"),
        }
        // Never start a check past the deadline: it could not answer in no
        // time, and the failure would wrongly blame a check that hung.
        let next = tokio::time::Instant::now() + Duration::from_millis(100);
        if next >= end {
            anyhow::bail!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep_until(next).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_check_that_never_answers_fails_at_the_deadline() {
        let e = until("nothing", Duration::from_millis(200), || std::future::pending::<Option<()>>()).await.unwrap_err();
        assert!(e.to_string().contains("did not answer"), "{e}");
    }

    #[tokio::test]
    async fn a_check_that_answers_later_is_waited_for() {
        let mut n = 0;
        let v = until("the third check", Duration::from_secs(5), || {
            n += 1;
            let n = n;
            async move { (n == 3).then_some(n) }
        })
        .await
        .unwrap();
        assert_eq!(v, 3);
    }

    #[tokio::test]
    async fn a_check_that_answers_no_until_the_deadline_is_not_called_hung() {
        // Each check takes a moment, as a request does.
        let e = until("never", Duration::from_millis(250), || async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            None::<()>
        })
        .await
        .unwrap_err();
        assert!(!e.to_string().contains("did not answer"), "{e}");
    }
}
