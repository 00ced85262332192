import KVHash

/// Entry points for the libFuzzer targets in Fuzz/: the on-disk decoders (log records, the
/// segment scanner, hint files) over arbitrary bytes, with the checks a fuzzer can trap on.
/// Behind `@_spi(Fuzzing)`: not part of KVStorage's API.
@_spi(Fuzzing)
public enum StorageFormatFuzzing {
    /// One log record as the writer lays it out. `kind` 1 is a tombstone, 2 a flush marker, else a put.
    public static func record(kind: UInt8, sequence: UInt64, expiry: Int64, key: [UInt8], value: [UInt8]) -> [UInt8] {
        let kind = RecordFormat.Kind(rawValue: kind) ?? .put
        var out = [UInt8](repeating: 0, count: RecordFormat.size(keyLength: key.count, valueLength: value.count))
        out.withUnsafeMutableBytes { dest in
            key.withUnsafeBytes { k in
                value.withUnsafeBytes { v in
                    _ = RecordFormat.encode(into: dest.baseAddress!, kind: kind, sequence: sequence, expiry: expiry, key: k, value: v)
                }
            }
        }
        return out
    }

    /// What scanning a segment image found, as recovery would see it.
    public struct ScanSummary: Equatable, Sendable {
        /// Byte ranges of the valid records, in file order.
        public var records: [Range<Int>]
        /// Damaged stretches skipped in the middle.
        public var corrupt: Int
        /// Offset of a damaged tail (where recovery truncates), if any.
        public var tail: Int?

        public init(records: [Range<Int>] = [], corrupt: Int = 0, tail: Int? = nil) {
            self.records = records
            self.corrupt = corrupt
            self.tail = tail
        }
    }

    /// Scans `segment` with the recovery scanner. Traps if a reported record lies outside the image
    /// or does not re-encode to exactly its bytes.
    public static func scan(_ segment: [UInt8]) -> ScanSummary {
        var summary = ScanSummary()
        let damage = segment.withUnsafeBytes { seg in
            SegmentScanner.scan(seg) { v in
                precondition(v.offset >= 0 && v.offset + v.size <= seg.count, "record outside the segment")
                let key = Array(seg[v.keyOffset..<v.valueOffset])
                let value = Array(seg[v.valueOffset..<(v.offset + v.size)])
                let again = record(kind: v.kind.rawValue, sequence: v.sequence, expiry: v.expiry, key: key, value: value)
                precondition(again.elementsEqual(seg[v.offset..<(v.offset + v.size)]), "record does not re-encode to its bytes")
                summary.records.append(v.offset..<(v.offset + v.size))
            }
        }
        for d in damage {
            switch d {
            case .corrupt: summary.corrupt += 1
            case let .tail(offset, _):
                precondition(summary.tail == nil, "two tails")
                summary.tail = offset
            }
        }
        return summary
    }

    /// The hint file a merge writes for `segment`'s valid records.
    public static func hintFile(for segment: [UInt8]) -> [UInt8] {
        let sink = ByteSink(capacity: 256)
        var count = 0
        segment.withUnsafeBytes { seg in
            _ = SegmentScanner.scan(seg) { v in
                HintFormat.append(to: sink, kind: v.kind, sequence: v.sequence, offset: v.offset, size: v.size,
                                  expiry: v.expiry, key: UnsafeRawBufferPointer(rebasing: seg[v.keyOffset..<v.valueOffset]))
                count += 1
            }
        }
        HintFormat.finish(sink, count: count)
        return Array(sink.bytes)
    }

    /// `body` as a hint file: followed by a trailer declaring `count` entries, with a valid checksum.
    public static func sealedHintFile(body: [UInt8], count: UInt64) -> [UInt8] {
        let sink = ByteSink(capacity: body.count + HintFormat.trailerSize)
        body.withUnsafeBytes { sink.append($0) }
        let sum = XXH3.hash(sink.bytes)
        var out = Array(sink.bytes)
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: count >> UInt64(shift))) }
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: sum >> UInt64(shift))) }
        return out
    }

    /// Loads `hint` against `segment` as recovery does (parse, validate, then read every hinted key
    /// and value); the number of entries, or nil when recovery would ignore the hint and scan instead.
    public static func loadHint(_ hint: [UInt8], segment: [UInt8]) -> Int? {
        guard let entries = Recovery.validHint(hint, segment: segment) else { return nil }
        var bytes = 0
        for e in entries {
            bytes += hint[e.keyOffset..<(e.keyOffset + e.keyLength)].count
            bytes += segment[(e.offset + RecordFormat.headerSize + e.keyLength)..<(e.offset + e.size)].count
        }
        _ = bytes
        return entries.count
    }
}
