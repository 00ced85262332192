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
    /// the size estimate that sizes the writer's buffer covers realistic sets.
    @Test func nonASCIINodeIDsRoundTripAndTheSizeEstimateCoversTheEncoding() throws {
        var s = SiblingSet()
        for (i, node) in ["nœud-é", "узел", "n1", String(repeating: "x", count: 200)].enumerated() {
            s.update(clientContext: VersionVector(), actor: Actor(node: node, epoch: UInt32(i + 1)),
                     value: Array(repeating: UInt8(i), count: 100 * i), timestamp: UInt64(1) << 50)
        }
        for set in [s, sample(), SiblingSet()] {
            let encoded = SiblingSetCoding.encode(set)
            #expect(try SiblingSetCoding.decode(encoded) == set)
            #expect(6 + set.encodedSizeEstimate >= encoded.count)
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
}
