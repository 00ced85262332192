import KVAntiEntropy
import KVCluster
import KVVersioning
import Testing

@Suite struct AntiEntropyCodingTests {
    static let set: SiblingSet = {
        var s = SiblingSet()
        s.update(clientContext: VersionVector(), actor: Actor(node: "n1", epoch: 3), value: Array("v".utf8), timestamp: 10)
        s.update(clientContext: VersionVector(), actor: Actor(node: "n2", epoch: 1), value: [], isTombstone: true, timestamp: 11)
        return s
    }()

    static let messages: [AntiEntropyMessage] = [
        .init(session: 1 << 33 | 5, fromInitiator: true,
              body: .begin(range: RangeID(replicas: ["a", "b"]), shape: .standard, root: 0xDEAD_BEEF_0123_4567)),
        .init(session: 0, fromInitiator: false, body: .inSync),
        .init(session: 7, fromInitiator: false, body: .digests(level: 2, parents: [0, 3, 15], digests: Array(0..<48))),
        .init(session: 7, fromInitiator: true, body: .entries([
            BucketEntries(bucket: 4, keys: [KeyVersion(key: Array("k".utf8), digest: .max, context: set.context)]),
            BucketEntries(bucket: 4095, keys: []),
        ])),
        .init(session: 9, fromInitiator: false,
              body: .objects(sets: [KeyedSet(key: [1, 2], siblings: set), KeyedSet(key: [], siblings: SiblingSet())],
                             want: [[3], []], isLast: false, more: true)),
        .init(session: 9, fromInitiator: true, body: .objects(sets: [], want: [], isLast: true, more: false)),
        .init(session: .max, fromInitiator: true, body: .abort(.shapeMismatch)),
    ]

    @Test func everyMessageRoundTrips() throws {
        for m in Self.messages {
            #expect(try AntiEntropyCoding.decode(AntiEntropyCoding.encode(m)) == m)
        }
    }

    @Test func truncationsAndBitFlipsAreRejected() {
        for m in Self.messages {
            let bytes = AntiEntropyCoding.encode(m)
            for cut in 0..<bytes.count {
                #expect(throws: VersionDecodingError.self) { try AntiEntropyCoding.decode(Array(bytes[0..<cut])) }
            }
            for i in bytes.indices {
                var flipped = bytes
                flipped[i] ^= 0x10
                #expect(throws: VersionDecodingError.self) { try AntiEntropyCoding.decode(flipped) }
            }
        }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var rng = Rng(seed: 42)
        var accepted = 0
        for _ in 0..<20_000 {
            let n = rng.below(64)
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if (try? AntiEntropyCoding.decode(bytes)) != nil { accepted += 1 }
        }
        #expect(accepted == 0)
    }

    @Test func wellChecksummedGarbageIsRejectedByValidation() {
        // Payloads with a valid checksum but nonsense fields: the validation, not the checksum, must catch them.
        var rng = Rng(seed: 7)
        var rejected = 0
        for _ in 0..<5000 {
            var w = VarintWriter()
            w.byte(AntiEntropyCoding.version)
            w.varint(rng.next() % 100)
            w.byte(UInt8(rng.below(2)))
            w.byte(UInt8(rng.below(8)))
            for _ in 0..<rng.below(40) { w.byte(UInt8(truncatingIfNeeded: rng.next())) }
            let bytes = w.finish()
            do { _ = try AntiEntropyCoding.decode(bytes) } catch { rejected += 1 }
        }
        #expect(rejected > 4500)
        // Specific invariants.
        func frame(_ body: (inout VarintWriter) -> Void) -> [UInt8] {
            var w = VarintWriter()
            w.byte(1); w.varint(1); w.byte(0)
            body(&w)
            return w.finish()
        }
        let badShape = frame { w in w.byte(1); for _ in 0..<8 { w.byte(0) }; w.byte(4); w.byte(9); for _ in 0..<8 { w.byte(0) } }
        let unsortedParents = frame { w in w.byte(3); w.varint(1); w.varint(2); w.varint(3); w.varint(0); w.varint(0) }
        let hugeCount = frame { w in w.byte(5); w.varint(1 << 40) }
        let badReason = frame { w in w.byte(6); w.byte(99) }
        let trailing = frame { w in w.byte(2); w.byte(0) }
        for bytes in [badShape, unsortedParents, hugeCount, badReason, trailing] {
            #expect(throws: VersionDecodingError.self) { try AntiEntropyCoding.decode(bytes) }
        }
    }
}
