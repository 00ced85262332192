import KVCluster
import KVVersioning
import Testing

@Suite struct ClusterCodingTests {
    static let set: SiblingSet = {
        var s = SiblingSet()
        s.update(clientContext: VersionVector(), actor: Actor(node: "n1", epoch: 3), value: Array("v".utf8), timestamp: 10)
        s.update(clientContext: VersionVector(), actor: Actor(node: "n2", epoch: 1), value: [], isTombstone: true, timestamp: 11)
        return s
    }()

    static let messages: [PeerMessage] = [
        .stampPut(request: 1 << 40 | 7, key: Array("key".utf8), value: [0, 1, 2], isTombstone: false,
                  context: set.context, supersedeLocal: true, timestamp: 99, hintFor: "n4"),
        .stampPut(request: 2, key: [], value: [], isTombstone: true, context: VersionVector(),
                  supersedeLocal: false, timestamp: 0, hintFor: nil),
        .stamped(request: 3, object: set, dot: Dot(actor: Actor(node: "n1", epoch: 3), counter: 1)),
        .stamped(request: 4, object: nil, dot: nil),
        .replicate(request: 5, key: [9], object: set, hintFor: "n0"),
        .replicated(request: 6, accepted: true),
        .replicated(request: 7, accepted: false),
        .get(request: 8, key: Array("k".utf8)),
        .got(request: 9, object: set),
        .got(request: 10, object: nil),
        .repair(key: [1], object: set, hintFor: nil),
        .reapTombstones(key: [2], context: set.context),
        .handoff(hint: 11, key: [3], object: SiblingSet()),
        .handoffAck(hint: 12, key: [4]),
        .transfer(id: 13, key: [5, 6], object: set),
        .transferAck(id: 14, key: [7]),
        .antiEntropy(bytes: [1, 2, 3, 255]),
        .membership(bytes: [4, 5]),
    ]

    @Test(arguments: messages)
    func peerMessagesRoundTrip(_ m: PeerMessage) throws {
        let bytes = ClusterCoding.encode(m)
        #expect(try ClusterCoding.decodePeerMessage(bytes) == m)
        for n in 0..<bytes.count {
            #expect(throws: VersionDecodingError.self) { try ClusterCoding.decodePeerMessage(Array(bytes.prefix(n))) }
        }
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x10
        #expect(throws: VersionDecodingError.self) { try ClusterCoding.decodePeerMessage(flipped) }
    }

    @Test func storedObjectsAndHintsRoundTrip() throws {
        let object = StoredObject(siblings: Self.set, stampEpoch: 3, recentStamps: [
            .init(origin: StampOrigin(coordinator: "n0", request: 77), dot: Dot(actor: Actor(node: "n1", epoch: 3), counter: 1)),
        ])
        #expect(try ClusterCoding.decodeStoredObject(ClusterCoding.encode(object)) == object)
        #expect(try ClusterCoding.decodeStoredObject(ClusterCoding.encode(StoredObject())) == StoredObject())
        let hint = Hint(owner: "n2", key: Array("key".utf8), sequence: 1 << 33, createdAt: 12_345)
        #expect(try ClusterCoding.decodeHint(ClusterCoding.encode(hint)) == hint)
    }

    @Test func garbageIsRejected() {
        var state: UInt64 = 5
        for len in 1..<300 {
            let garbage = (0..<len % 50 + 1).map { _ -> UInt8 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
            #expect(throws: VersionDecodingError.self) { try ClusterCoding.decodePeerMessage(garbage) }
            #expect(throws: VersionDecodingError.self) { try ClusterCoding.decodeStoredObject(garbage) }
            #expect(throws: VersionDecodingError.self) { try ClusterCoding.decodeHint(garbage) }
        }
    }
}
