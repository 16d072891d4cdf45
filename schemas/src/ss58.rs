//! SS58 addresses: the one codec every crate uses to turn an address into
//! its 32-byte account and back.

use blake2::{Blake2b512, Digest};

/// Decode an SS58 address into its network prefix and 32-byte account id,
/// checksum verified. `None` if it is not a valid SS58 account address.
pub fn decode(address: &str) -> Option<(u16, [u8; 32])> {
    // Into a buffer on the stack: a round decodes every candidate's and node's address.
    let mut buf = [0u8; 64];
    let len = bs58::decode(address).onto(&mut buf[..]).ok()?;
    let raw = &buf[..len];
    let (prefix, prefix_len) = match *raw.first()? {
        b0 @ 0..=63 => (u16::from(b0), 1),
        b0 @ 64..=127 => {
            let (b0, b1) = (u16::from(b0), u16::from(*raw.get(1)?));
            (((b0 & 0b0011_1111) << 2) | (b1 >> 6) | ((b1 & 0b0011_1111) << 8), 2)
        }
        _ => return None,
    };
    if raw.len() != prefix_len + 32 + 2 {
        return None;
    }
    let (body, checksum) = raw.split_at(prefix_len + 32);
    if checksum_of(body) != checksum {
        return None;
    }
    Some((prefix, body.get(prefix_len..)?.try_into().ok()?))
}

/// The SS58 address of `account` under `prefix` (one byte below 64, two above;
/// prefixes above 16383 do not exist and are clamped).
pub fn encode(prefix: u16, account: &[u8; 32]) -> String {
    let prefix = prefix & 0b0011_1111_1111_1111;
    let mut body = if prefix < 64 {
        vec![prefix as u8]
    } else {
        vec![((prefix & 0b1111_1100) >> 2) as u8 | 0b0100_0000, ((prefix >> 8) | ((prefix & 0b11) << 6)) as u8]
    };
    body.extend_from_slice(account);
    let checksum = checksum_of(&body);
    body.extend_from_slice(&checksum);
    bs58::encode(body).into_string()
}

/// The 32-byte account of an address (any prefix).
pub fn account(address: &str) -> Option<[u8; 32]> {
    decode(address).map(|(_, key)| key)
}

/// The account of an address as `0x` hex, the key chain records use.
pub fn hex_account(address: &str) -> Option<String> {
    account(address).map(|key| hex0x(&key))
}

/// The two checksum bytes: the start of BLAKE2b-512("SS58PRE" ++ body).
fn checksum_of(body: &[u8]) -> [u8; 2] {
    let hash = Blake2b512::new().chain_update(b"SS58PRE").chain_update(body).finalize();
    [hash[0], hash[1]]
}

/// `0x` and lowercase hex, in one allocation (a round turns every candidate's
/// address into its key: a `format!` per byte was a tenth of a round's time).
pub fn hex0x(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("0x");
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: [u8; 32] = [
        0xd4, 0x35, 0x93, 0xc7, 0x15, 0xfd, 0xd3, 0x1c, 0x61, 0x14, 0x1a, 0xbd, 0x04, 0xa9, 0x9f, 0xd6, 0x82, 0x2c, 0x85, 0x58, 0x85,
        0x4c, 0xcd, 0xe3, 0x9a, 0x56, 0x84, 0xe7, 0xa5, 0x6d, 0xa2, 0x7d,
    ];
    // Published addresses of //Alice (subkey), not produced by our encoder.
    const ALICE_42: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    const ALICE_0: &str = "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5";
    const ALICE_2: &str = "HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F";

    #[test]
    fn hex0x_is_lowercase_hex_after_0x() {
        assert_eq!(hex0x(&[0x00, 0xab, 0x7f, 0xff]), "0x00ab7fff");
        assert_eq!(hex0x(&[]), "0x");
    }

    #[test]
    fn known_addresses() {
        assert_eq!(encode(42, &ALICE), ALICE_42);
        assert_eq!(encode(0, &ALICE), ALICE_0);
        assert_eq!(encode(2, &ALICE), ALICE_2);
        assert_eq!(decode(ALICE_42), Some((42, ALICE)));
        assert_eq!(decode(ALICE_0), Some((0, ALICE)));
        assert_eq!(decode(ALICE_2), Some((2, ALICE)));
        assert_eq!(
            hex_account(ALICE_2).as_deref(),
            Some("0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d")
        );
    }

    #[test]
    fn two_byte_prefixes_round_trip() {
        for prefix in [64, 255, 1000, 16383] {
            assert_eq!(decode(&encode(prefix, &ALICE)), Some((prefix, ALICE)));
        }
    }

    #[test]
    fn junk_and_bad_checksums_are_refused() {
        assert_eq!(decode("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ"), None, "one character changed");
        for junk in ["", "0", "1", "I", "5Grwva", "not-base58!", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"] {
            assert_eq!(decode(junk), None, "{junk}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_account_and_prefix_round_trips(account: [u8; 32], prefix in 0u16..16384) {
            proptest::prop_assert_eq!(decode(&encode(prefix, &account)), Some((prefix, account)));
        }

        #[test]
        fn arbitrary_text_never_panics(s in ".{0,80}") {
            let _ = decode(&s);
        }
    }
}
