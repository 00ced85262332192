import KVHash
import KVVersioning
import Testing

@Suite struct CodingTests {
    private func sample() -> SiblingSet {
        var s = SiblingSet()
        s.update(clientContext: VersionVector(), actor: Actor(node: "node-a", epoch: 2), value: Array("hello".utf8), timestamp: 77)
        s.update(clientContext: VersionVector(), actor: Actor(node: "node-b", epoch: 1), value: [], isTombstone: true, timestamp: 1 << 40)
        s.update(clientContext: VersionVector([.init(actor: Actor(node: "z", epoch: 9), counter: 300)]),
                 actor: Actor(node: "node-a", epoch: 2), value: [0, 255, 7], timestamp: 78)
        return s
    }

    @Test func contextRoundTrips() throws {
        let ctx = sample().context
        let encoded = CausalContextCoding.encode(ctx)
        #expect(try CausalContextCoding.decode(encoded) == ctx)
        #expect(encoded.first == CausalContextCoding.version)
        #expect(try CausalContextCoding.decode([]) == VersionVector())
        #expect(try CausalContextCoding.decode(CausalContextCoding.encode(VersionVector())) == VersionVector())
    }

    @Test func siblingSetRoundTrips() throws {
        let s = sample()
        #expect(try SiblingSetCoding.decode(SiblingSetCoding.encode(s)) == s)
        #expect(try SiblingSetCoding.decode(SiblingSetCoding.encode(SiblingSet())) == SiblingSet())
    }

    /// Node ids are written straight from the string's UTF-8 storage: multi-byte ids round-trip, and
    /// the sizing pass that sizes the record's buffer measures it exactly.
    @Test func nonASCIINodeIDsRoundTripAndTheSizingPassMeasuresTheEncoding() throws {
        var s = SiblingSet()
        for (i, node) in ["nœud-é", "узел", "n1", String(repeating: "x", count: 200)].enumerated() {
            s.update(clientContext: VersionVector(), actor: Actor(node: node, epoch: UInt32(i + 1)),
                     value: Array(repeating: UInt8(i), count: 100 * i), timestamp: UInt64(1) << 50)
        }
        for set in [s, sample(), SiblingSet()] {
            let encoded = SiblingSetCoding.encode(set)
            #expect(try SiblingSetCoding.decode(encoded) == set)
            var sizer = VarintSizer()
            sizer.byte(SiblingSetCoding.version)
            sizer.siblingSet(set)
            #expect(sizer.count + VarintWriter.checksumBytes == encoded.count)
            #expect(try CausalContextCoding.decode(CausalContextCoding.encode(set.context)) == set.context)
        }
    }

    @Test func everySingleBitFlipIsRejected() {
        let encoded = CausalContextCoding.encode(sample().context)
        for i in encoded.indices {
            for bit in 0..<8 {
                var bad = encoded
                bad[i] ^= UInt8(1 << bit)
                #expect(throws: VersionDecodingError.self) { try CausalContextCoding.decode(bad) }
            }
        }
    }

    @Test func truncationIsRejected() {
        let encoded = SiblingSetCoding.encode(sample())
        for n in 1..<encoded.count {
            #expect(throws: VersionDecodingError.self) { try SiblingSetCoding.decode(Array(encoded.prefix(n))) }
        }
    }

    @Test func randomGarbageIsRejectedCleanly() {
        var rng = TestRNG(seed: 99)
        for len in 0..<400 {
            let garbage = (0..<(len % 60 + 1)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(throws: VersionDecodingError.self) { try CausalContextCoding.decode(garbage) }
            #expect(throws: VersionDecodingError.self) { try SiblingSetCoding.decode(garbage) }
        }
    }

    @Test func unknownVersionIsNamed() {
        var body: [UInt8] = [2, 0]  // version 2, no entries
        let sum = UInt32(truncatingIfNeeded: XXH3.hash(body, seed: 0x4B56_4456))
        for k in 0..<4 { body.append(UInt8(truncatingIfNeeded: sum >> UInt32(8 * k))) }
        #expect(throws: VersionDecodingError.unknownVersion(2)) { try CausalContextCoding.decode(body) }
        body[0] = 1
        #expect(throws: VersionDecodingError.badChecksum) { try CausalContextCoding.decode(body) }
    }

    /// `VarintRecord.checksummedBytes()` (a sizing pass, then stores into one exact buffer) gives the
    /// very bytes a `VarintWriter` appends and finishes, for every field kind: multi-byte varints up to
    /// `UInt64.max`, empty and long blobs (records under and over the 2 KiB built on the stack), ASCII
    /// and multi-byte strings, sibling sets.
    @Test func twoPassRecordsMatchTheGrowingWriterByteForByte() {
        struct Fields: VarintRecord {
            let set: SiblingSet
            let blobSize: Int
            func write<S: VarintSink>(to w: inout S) {
                w.byte(7)
                for v: UInt64 in [0, 1, 127, 128, 300, 16_383, 16_384, 1 << 35, UInt64.max - 1, UInt64.max] { w.varint(v) }
                w.blob([UInt8]())
                w.blob([UInt8](repeating: 0xAB, count: blobSize))
                w.blob(Array("slice-of-bytes".utf8)[2...])
                for s in ["", "n1", "nœud-é", "узел", String(repeating: "y", count: 300)] { w.string(s) }
                w.actor(Actor(node: "node-z", epoch: .max))
                w.siblingSet(set)
                w.versionVector(set.context)
            }
        }
        var s = sample()
        s.update(clientContext: VersionVector(), actor: Actor(node: "узел", epoch: 3), value: [1, 2, 3], timestamp: .max)
        // Small records are built on the stack, large ones (over 2 KiB) in the array itself.
        for (set, blobSize) in [(s, 1000), (SiblingSet(), 0), (s, 5000)] {
            let fields = Fields(set: set, blobSize: blobSize)
            var grown = VarintWriter()
            fields.write(to: &grown)
            var sizer = VarintSizer()
            fields.write(to: &sizer)
            let twoPass = fields.checksummedBytes()
            let finished = grown.finish()
            #expect(twoPass == finished)
            #expect(fields.withChecksummedBytes { Array($0) } == finished)
            #expect(twoPass.count == sizer.count + VarintWriter.checksumBytes)
        }
    }

    /// Node ids must be UTF-8: an id whose bytes are not (with a valid checksum, so only the string
    /// check can refuse it) is rejected, not repaired into a different id.
    @Test func invalidUTF8NodeIDsAreRejected() {
        for bad: [UInt8] in [[0xFF], [0x6E, 0xC3], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0x6E, 0x31, 0x80]] {
            var w = VarintWriter()
            w.byte(CausalContextCoding.version)
            w.varint(1)  // one entry
            w.blob(bad)  // the actor's node id
            w.varint(1)  // epoch
            w.varint(5)  // counter
            #expect(throws: VersionDecodingError.malformed("node id is not UTF-8")) { try CausalContextCoding.decode(w.finish()) }
        }
    }
}
