import KVHash
import KVMembership
import Testing

@Suite struct MembershipCodingTests {
    static let updates = [
        MemberUpdate(member: member("n1", 7, .suspect), source: "n2"),
        MemberUpdate(member: Member(id: "nœud-é", address: "[::1]:7946", incarnation: .max, status: .removed), source: "n3"),
    ]

    static let messages: [MembershipMessage] = [
        .init(senderID: "n1", senderIncarnation: 1, body: .ping(seq: 1), gossip: updates),
        .init(senderID: "n1", senderIncarnation: 1 << 40, body: .ack(seq: .max)),
        .init(senderID: "n2", senderIncarnation: 3, body: .pingRequest(seq: 9, targetID: "n3", targetAddress: "h:1")),
        .init(senderID: "n2", senderIncarnation: 3, body: .nack(seq: 0), gossip: [updates[0]]),
        .init(senderID: "n2", senderIncarnation: 3, body: .gossip, gossip: updates),
        .init(senderID: "n4", senderIncarnation: 2, body: .join(member("n4", 2, .joining))),
        .init(senderID: "n4", senderIncarnation: 2, body: .sync(members: MemberStatus.allCases.map { member("n\($0.rawValue)", 1, $0) }, isReply: true)),
        .init(senderID: "n4", senderIncarnation: 2, body: .sync(members: [], isReply: false)),
    ]

    @Test(arguments: messages)
    func messagesRoundTripAndDamageIsRejected(_ m: MembershipMessage) throws {
        let bytes = MembershipCoding.encode(m)
        #expect(try MembershipCoding.decode(bytes) == m)
        for n in 0..<bytes.count {
            #expect(throws: MembershipDecodingError.self) { try MembershipCoding.decode(Array(bytes.prefix(n))) }
        }
        for i in bytes.indices {
            var flipped = bytes
            flipped[i] ^= 0x04
            #expect(throws: MembershipDecodingError.self) { try MembershipCoding.decode(flipped) }
        }
    }

    @Test func randomBytesNeverDecodeNorCrash() {
        var state: UInt64 = 42
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
        var decoded = 0
        for _ in 0..<20_000 {
            let bytes = (0..<Int(next() % 80)).map { _ in UInt8(truncatingIfNeeded: next() >> 56) }
            if (try? MembershipCoding.decode(bytes)) != nil { decoded += 1 }
        }
        #expect(decoded == 0)
    }

    /// Valid checksums around invalid content: the decoder must still refuse, field by field.
    @Test func wellChecksummedGarbageIsRejected() {
        let base = MembershipCoding.encode(Self.messages[0])
        var state: UInt64 = 7
        for _ in 0..<5_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            var payload = Array(base.dropLast(4))
            let i = Int(state >> 33) % payload.count
            payload[i] = UInt8(truncatingIfNeeded: state >> 8)
            let reencoded = Self.resum(payload)
            // Either it still decodes to something self-consistent, or it is refused with an error.
            if let m = try? MembershipCoding.decode(reencoded) {
                #expect(MembershipCoding.encode(m) == reencoded)
            }
        }
        #expect(throws: MembershipDecodingError.unknownVersion(9)) { try MembershipCoding.decode(Self.resum([9, 1, 65, 0, 5, 0])) }
        #expect(throws: MembershipDecodingError.malformed("unknown body tag 99")) { try MembershipCoding.decode(Self.resum([1, 1, 65, 0, 99, 0])) }
        #expect(throws: MembershipDecodingError.malformed("empty string")) { try MembershipCoding.decode(Self.resum([1, 0, 0, 5, 0])) }
        #expect(throws: MembershipDecodingError.trailingBytes) { try MembershipCoding.decode(Self.resum([1, 1, 65, 0, 5, 0, 0])) }
    }

    /// `payload` with a valid checksum (the wire format's: low half of XXH3-64, seed "SWIM").
    static func resum(_ payload: [UInt8]) -> [UInt8] {
        let sum = UInt32(truncatingIfNeeded: XXH3.hash(payload, seed: 0x5357_494D))
        return payload + (0..<4).map { UInt8(truncatingIfNeeded: sum >> (8 * $0)) }
    }
}
