//! Any bytes, as a decrypted backup document, and as an age file to
//! decrypt: a clear error or a summary, never a panic.
#![no_main]

use keyward_core::backup::{decrypt, inspect, Key};
use keyward_core::Passphrase;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = inspect(data);
    if data.starts_with(b"age-encryption.org/v1") {
        let _ = decrypt(data, &Key::Passphrase(Passphrase::new("fuzz".into())));
    }
});
