//! Retry policies: parsing `retryPolicy` objects and the spacing of their retries (spec §5.5).

use hookflow_engine::RetryPolicy;
use serde_json::{Value, json};

/// Per retry (1, 2, ...), the range its delay must fall in, or `None`: no more retries.
type Delays = &'static [Option<(u64, u64)>];

#[test]
fn policies_parse_and_space_their_retries() {
    let cases: &[(Value, Delays)] = &[
        (json!({ "type": "none" }), &[None]),
        (
            json!({ "type": "fixed", "count": 2, "interval": "PT10S" }),
            &[Some((10_000, 10_000)), Some((10_000, 10_000)), None],
        ),
        (
            json!({ "type": "exponential", "count": 3, "interval": "PT10S", "minimumInterval": "PT1S", "maximumInterval": "PT25S" }),
            &[
                Some((1_000, 10_000)),
                Some((10_000, 20_000)),
                Some((20_000, 25_000)),
                None,
            ],
        ),
    ];
    for (policy, expected) in cases {
        let parsed = RetryPolicy::parse(Some(policy)).unwrap();
        for (index, range) in expected.iter().enumerate() {
            let retry = index as u32 + 1;
            for random in [0, 7, u64::MAX] {
                let delay = parsed.delay_ms(retry, random);
                match range {
                    None => assert_eq!(delay, None, "{policy} retry {retry}"),
                    Some((low, high)) => {
                        let delay =
                            delay.unwrap_or_else(|| panic!("{policy} retry {retry}: no delay"));
                        assert!(
                            (*low..=*high).contains(&delay),
                            "{policy} retry {retry}: {delay} not in {low}..={high}"
                        );
                    }
                }
            }
        }
    }
    assert_eq!(RetryPolicy::parse(None).unwrap(), RetryPolicy::DEFAULT);
    assert!(RetryPolicy::parse(Some(&json!({ "type": "sometimes" }))).is_err());
    assert!(RetryPolicy::parse(Some(&json!({ "type": "fixed", "count": 0 }))).is_err());
}
