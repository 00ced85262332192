import Glibc
import Testing
@_spi(Fuzzing) @testable import KVStorage

/// The seed corpus of Fuzz/StorageFuzz: real segment images and hint files, in the target's input
/// format (`[mode][payload]`, see Fuzz/Sources/StorageFuzz). Regenerate with
/// `KVBENCH_WRITE_FUZZ_SEEDS=1 swift test --skip-build --filter StorageFuzzSeeds`.
@Suite struct StorageFuzzSeeds {
    static let segment: [UInt8] =
        StorageFormatFuzzing.record(kind: 0, sequence: 1, expiry: 0, key: b("user1"), value: b("hello world"))
        + StorageFormatFuzzing.record(kind: 0, sequence: 2, expiry: 1_700_000_000_000, key: b("k"), value: [0, 0xB1, 0xFF])
        + StorageFormatFuzzing.record(kind: 1, sequence: 3, expiry: 0, key: b("user1"), value: [])
        + StorageFormatFuzzing.record(kind: 2, sequence: 4, expiry: 0, key: [], value: [])

    static func seeds() -> [(name: String, bytes: [UInt8])] {
        let hint = StorageFormatFuzzing.hintFile(for: segment)
        let body = Array(hint.dropLast(HintFormat.trailerSize))
        var withHint: [UInt8] = [2]
        for shift in stride(from: 0, to: 64, by: 8) { withHint.append(UInt8(truncatingIfNeeded: 4 >> shift)) }
        withHint += [UInt8(body.count & 0xFF), UInt8(body.count >> 8)] + body + segment
        // Mode 3 builds records itself: [cut][kind seq expiry keyLen valueLen key value]...
        let built: [UInt8] = [3, 200, 0, 1, 0, 3, 5, 0x61, 0x62, 0x63, 0x76, 0x61, 0x6C, 0x75, 0x65, 1, 2, 0, 3, 0, 0x61, 0x62, 0x63]
        return [
            ("segment", [0] + segment),
            ("segment-torn", [0] + segment.dropLast(7)),
            ("hint", [1] + hint),
            ("hint-and-segment", withHint),
            ("built", built),
        ]
    }

    @Test func seedsAreValidInputs() throws {
        let scan = StorageFormatFuzzing.scan(Self.segment)
        #expect(scan.records.count == 4 && scan.corrupt == 0 && scan.tail == nil)
        #expect(StorageFormatFuzzing.loadHint(StorageFormatFuzzing.hintFile(for: Self.segment), segment: Self.segment) == 4)
        let torn = StorageFormatFuzzing.scan(Array(Self.segment.dropLast(7)))
        #expect(torn.records.count == 3 && torn.tail != nil)
        if getenv("KVBENCH_WRITE_FUZZ_SEEDS") != nil {
            let root = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
            let dir = "/" + root + "/Fuzz/corpus/StorageFuzz"
            _ = mkdir("/" + root + "/Fuzz/corpus", 0o755)
            _ = mkdir(dir, 0o755)
            for (name, bytes) in Self.seeds() {
                let f = try #require(fopen(dir + "/seed-" + name, "wb"))
                _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
                fclose(f)
            }
        }
    }
}
