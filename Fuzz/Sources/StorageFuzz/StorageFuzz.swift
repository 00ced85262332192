import FuzzShim
@_spi(Fuzzing) import KVStorage

// Input: [mode][payload...]. Mode (low 2 bits):
//   0: the payload is a segment image, scanned as recovery does;
//   1: the payload is a hint file (as read from disk) checked against an empty segment;
//   2: [count(8)][split(2)][rest]: rest[..<split] gets a valid hint trailer declaring `count`
//      entries and is loaded against rest[split...] as the segment;
//   3: records built from the payload, with valid checksums: the scan of their concatenation must
//      find exactly them, the hint written for it must load, and after cutting the image at a
//      point the fuzzer chooses every record before the cut must still be found, in order.

/// Reads bytes off the front of the input; zero once it is used up.
struct ByteSource {
    var bytes: ArraySlice<UInt8>
    var isEmpty: Bool { bytes.isEmpty }
    mutating func byte() -> UInt8 { bytes.popFirst() ?? 0 }
    mutating func take(_ n: Int) -> [UInt8] {
        let n = min(n, bytes.count)
        defer { bytes.removeFirst(n) }
        return Array(bytes.prefix(n))
    }
    mutating func uint64() -> UInt64 {
        var v: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 8) { v |= UInt64(byte()) << UInt64(shift) }
        return v
    }
}

func builtSegment(_ source: inout ByteSource) {
    let cutByte = source.byte()
    var records: [[UInt8]] = []
    while !source.isEmpty && records.count < 64 {
        let kind = source.byte() % 3
        let sequence = UInt64(source.byte())
        let expiry = Int64(Int8(bitPattern: source.byte()))
        let keyLength = Int(source.byte() % 32)
        let valueLength = Int(source.byte() % 64)
        let key = source.take(keyLength)
        let value = kind == 0 ? source.take(valueLength) : []
        records.append(StorageFormatFuzzing.record(kind: kind, sequence: sequence, expiry: expiry, key: key, value: value))
    }
    let image = records.flatMap { $0 }
    let summary = StorageFormatFuzzing.scan(image)
    var ranges: [Range<Int>] = []
    var offset = 0
    for r in records {
        ranges.append(offset..<(offset + r.count))
        offset += r.count
    }
    precondition(summary == .init(records: ranges, corrupt: 0, tail: nil), "clean segment misread")
    let hint = StorageFormatFuzzing.hintFile(for: image)
    precondition(StorageFormatFuzzing.loadHint(hint, segment: image) == records.count, "own hint file rejected")

    let cut = image.count * Int(cutByte) / 256
    let torn = StorageFormatFuzzing.scan(Array(image[..<cut]))
    let whole = ranges.filter { $0.upperBound <= cut }
    precondition(torn.records.starts(with: whole), "records before a torn tail lost")
}

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size >= 1 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    var source = ByteSource(bytes: input[1...])
    switch input[0] & 3 {
    case 0:
        _ = StorageFormatFuzzing.scan(Array(source.bytes))
    case 1:
        _ = StorageFormatFuzzing.loadHint(Array(source.bytes), segment: [])
    case 2:
        let count = source.uint64()
        let split = Int(source.byte()) | Int(source.byte()) << 8
        let rest = Array(source.bytes)
        let cut = min(split, rest.count)
        let hint = StorageFormatFuzzing.sealedHintFile(body: Array(rest[..<cut]), count: count)
        _ = StorageFormatFuzzing.loadHint(hint, segment: Array(rest[cut...]))
    default:
        builtSegment(&source)
    }
    return 0
}

/// libFuzzer's per-input entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(data, size)
}

/// SwiftPM links executables with `--defsym main=StorageFuzz_main`; hand control to libFuzzer.
@_cdecl("StorageFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in testOneInput(data, size) }
}
