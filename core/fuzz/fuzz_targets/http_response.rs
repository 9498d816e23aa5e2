//! Arbitrary bytes as an HTTP response, read whole and read in pieces split where the input says:
//! no panic, and the same outcome (status, connection reuse, TTL header, body, or error) either way.
#![no_main]

use imds_core::fuzzing::ResponseReader;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, PartialEq)]
struct Outcome<'a> {
    result: Result<bool, &'static str>,
    head: Option<(u16, bool, Option<u32>)>,
    body: &'a [u8],
}

fn read<'a>(reader: &'a mut ResponseReader, pieces: &[&[u8]]) -> Outcome<'a> {
    let mut result = Ok(false);
    for piece in pieces {
        result = reader.receive(piece);
        if result.is_err() {
            break;
        }
    }
    if result == Ok(false) {
        result = reader.eof();
    }
    Outcome {
        result,
        head: reader.head(),
        body: reader.body(),
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&split_count, rest)) = input.split_first() else {
        return;
    };
    let split_count = usize::from(split_count % 8).min(rest.len());
    let (splits, response) = rest.split_at(split_count);
    let mut cuts: Vec<usize> = splits
        .iter()
        .map(|&byte| usize::from(byte) * response.len() / 256)
        .collect();
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut start = 0;
    for cut in cuts {
        pieces.push(&response[start..cut]);
        start = cut;
    }
    pieces.push(&response[start..]);

    let mut whole = Box::new(ResponseReader::new());
    let mut split = Box::new(ResponseReader::new());
    let whole = read(&mut whole, &[response]);
    let split = read(&mut split, &pieces);
    assert_eq!(
        whole,
        split,
        "pieces: {:?}",
        pieces.iter().map(|p| p.len()).collect::<Vec<_>>()
    );
});
