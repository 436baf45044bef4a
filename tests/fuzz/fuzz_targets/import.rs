//! Any bytes, as any import format: a clear error or rows, never a panic.
#![no_main]

use keyward_core::interchange::{parse, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let format = match first % 3 {
        0 => Format::Csv,
        1 => Format::KeepassxcCsv,
        _ => Format::BitwardenJson,
    };
    if let Ok(parsed) = parse(rest, format) {
        let _ = parsed.preview();
    }
});
