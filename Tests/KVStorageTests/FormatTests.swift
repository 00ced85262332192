import Testing
@_spi(Fuzzing) @testable import KVStorage

@Suite("Formats and index table")
struct FormatTests {
    @Test func recordRoundTripAndChecksumCoversFlags() throws {
        let key = b("hello"), value = b("world!")
        var buf = [UInt8](repeating: 0, count: RecordFormat.size(keyLength: 5, valueLength: 6))
        buf.withUnsafeMutableBytes { out in
            key.withUnsafeBytes { k in
                value.withUnsafeBytes { v in
                    _ = RecordFormat.encode(into: out.baseAddress!, kind: .put, sequence: 42, expiry: 7, key: k, value: v)
                }
            }
        }
        buf.withUnsafeBytes { raw in
            guard case let .record(v) = RecordFormat.decode(raw, at: 0) else {
                Issue.record("did not decode")
                return
            }
            #expect(v.sequence == 42 && v.expiry == 7 && v.kind == .put && v.size == buf.count)
            #expect(Array(raw[v.valueOffset..<v.size]) == value)
        }
        var flipped = buf
        flipped[1] = RecordFormat.Kind.tombstone.rawValue
        flipped.withUnsafeBytes { raw in
            guard case .bad = RecordFormat.decode(raw, at: 0) else {
                Issue.record("a changed flags byte must fail the checksum")
                return
            }
        }
        Array(buf.prefix(20)).withUnsafeBytes { raw in
            guard case .incomplete = RecordFormat.decode(raw, at: 0) else {
                Issue.record("a cut header is incomplete")
                return
            }
        }
    }

    @Test func indexTableInsertFindRemoveWithCollisions() {
        var table = IndexTable()
        defer { table.destroy() }
        var entries: [Int: Entry] = [:]
        // Few distinct hashes force long probe chains.
        for i in 0..<2000 {
            let key = b("k\(i)")
            let e = key.withUnsafeBytes { k in
                Entry.allocate(hash: UInt64(i % 7), sequence: UInt64(i), expiry: 0, segment: 1, offset: 0, key: k, value: k)
            }
            table.insertNew(e)
            entries[i] = e
        }
        #expect(table.count == 2000)
        for i in stride(from: 0, to: 2000, by: 2) {
            let slot = b("k\(i)").withUnsafeBytes { table.find(hash: UInt64(i % 7), key: $0) }
            #expect(slot != nil)
            if let slot {
                table[slot].free()
                table.remove(slot: slot)
            }
        }
        #expect(table.count == 1000)
        for i in 0..<2000 {
            let slot = b("k\(i)").withUnsafeBytes { table.find(hash: UInt64(i % 7), key: $0) }
            #expect((slot != nil) == (i % 2 == 1))
            if let slot { #expect(table[slot].sequence == UInt64(i)) }
        }
    }

    @Test func hintFileRoundTripAndDamageDetection() {
        let sink = ByteSink()
        b("key").withUnsafeBytes { k in
            HintFormat.append(to: sink, kind: .put, sequence: 9, offset: 100, size: 50, expiry: 3, key: k)
        }
        HintFormat.finish(sink, count: 1)
        let parsed = HintFormat.parse(sink.bytes)
        #expect(parsed?.count == 1)
        #expect(parsed?.first?.sequence == 9 && parsed?.first?.offset == 100 && parsed?.first?.size == 50)
        var damaged = Array(sink.bytes)
        damaged[3] ^= 1
        #expect(damaged.withUnsafeBytes { HintFormat.parse($0) } == nil)
    }

    /// Found by Fuzz/StorageFuzz (crash-b065aaf9…): the trailer's entry count is not covered by the
    /// checksum, and a damaged count was used to reserve memory (allocation-size-too-big / trap).
    @Test func hintFileWithDamagedCountIsRejectedNotTrusted() {
        // The fuzzer's input: an empty body whose trailer declares 0xFF_0001_C3A6 entries.
        let crashing = StorageFormatFuzzing.sealedHintFile(body: [], count: 0xFF_0001_C3A6)
        #expect(crashing.withUnsafeBytes { HintFormat.parse($0) } == nil)

        let sink = ByteSink()
        b("key").withUnsafeBytes { k in
            HintFormat.append(to: sink, kind: .put, sequence: 9, offset: 100, size: 50, expiry: 3, key: k)
        }
        HintFormat.finish(sink, count: 1)
        let countOffset = sink.count - HintFormat.trailerSize
        for flipped in [countOffset + 7, countOffset + 4, countOffset] {  // bit 63, bit 39, bit 7 of the count
            var damaged = Array(sink.bytes)
            damaged[flipped] ^= 0x80
            #expect(damaged.withUnsafeBytes { HintFormat.parse($0) } == nil)
        }
    }
}
