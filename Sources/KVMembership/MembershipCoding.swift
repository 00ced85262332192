/// Why bytes are not a membership message.
public enum MembershipDecodingError: Error, Equatable, Sendable {
    case truncated
    case tooLarge
    case badChecksum
    case unknownVersion(UInt8)
    case malformed(String)
    case trailingBytes
}

/// The membership wire format: a version byte, the sender, a body tag and its fields (LEB128 varints,
/// length-prefixed UTF-8 strings), the piggybacked updates, then a 4-byte checksum (low half of
/// XXH3-64). The decoder validates every field and bound and throws on garbage; it never traps.
public enum MembershipCoding {
    public static let version: UInt8 = 1
    /// Longest member id and address accepted (bytes).
    public static let maxIDLength = 255
    public static let maxAddressLength = 255
    /// Most piggybacked updates in one message.
    public static let maxUpdatesPerMessage = 64
    /// Most members in one full-state sync (larger clusters send a prefix; gossip covers the rest).
    public static let maxMembers = 4_096
    /// Largest encoded message accepted.
    public static let maxMessageSize = 4 << 20

    public static func encode(_ message: MembershipMessage) -> [UInt8] {
        var w = ByteWriter()
        w.byte(version)
        w.string(message.senderID)
        w.varint(message.senderIncarnation)
        switch message.body {
        case .ping(let seq):
            w.byte(1)
            w.varint(seq)
        case .ack(let seq):
            w.byte(2)
            w.varint(seq)
        case let .pingRequest(seq, targetID, targetAddress):
            w.byte(3)
            w.varint(seq)
            w.string(targetID)
            w.string(targetAddress)
        case .nack(let seq):
            w.byte(4)
            w.varint(seq)
        case .gossip:
            w.byte(5)
        case .join(let member):
            w.byte(6)
            member.encode(into: &w)
        case let .sync(members, isReply):
            w.byte(7)
            w.byte(isReply ? 1 : 0)
            w.varint(UInt64(members.count))
            for m in members { m.encode(into: &w) }
        }
        w.varint(UInt64(message.gossip.count))
        for u in message.gossip {
            u.member.encode(into: &w)
            w.string(u.source)
        }
        return w.finish()
    }

    public static func decode(_ bytes: [UInt8]) throws(MembershipDecodingError) -> MembershipMessage {
        var r = try ByteReader(checked: bytes)
        let v = try r.byte()
        guard v == version else { throw .unknownVersion(v) }
        let sender = try r.string(maxLength: maxIDLength)
        let incarnation = try r.varint()
        let tag = try r.byte()
        let body: MembershipBody
        switch tag {
        case 1: body = .ping(seq: try r.varint())
        case 2: body = .ack(seq: try r.varint())
        case 3:
            let seq = try r.varint()
            let id = try r.string(maxLength: maxIDLength)
            body = .pingRequest(seq: seq, targetID: id, targetAddress: try r.string(maxLength: maxAddressLength))
        case 4: body = .nack(seq: try r.varint())
        case 5: body = .gossip
        case 6: body = .join(try Member(from: &r))
        case 7:
            let flag = try r.byte()
            guard flag <= 1 else { throw .malformed("bad flag") }
            let n = try r.count(max: maxMembers)
            var members: [Member] = []
            members.reserveCapacity(n)
            for _ in 0..<n { members.append(try Member(from: &r)) }
            body = .sync(members: members, isReply: flag == 1)
        default:
            throw .malformed("unknown body tag \(tag)")
        }
        let n = try r.count(max: maxUpdatesPerMessage)
        var gossip: [MemberUpdate] = []
        gossip.reserveCapacity(n)
        for _ in 0..<n {
            let member = try Member(from: &r)
            gossip.append(MemberUpdate(member: member, source: try r.string(maxLength: maxIDLength)))
        }
        guard r.atEnd else { throw .trailingBytes }
        return MembershipMessage(senderID: sender, senderIncarnation: incarnation, body: body, gossip: gossip)
    }
}

extension Member {
    func encode(into w: inout ByteWriter) {
        w.string(id)
        w.string(address)
        w.varint(incarnation)
        w.byte(status.rawValue)
    }

    init(from r: inout ByteReader) throws(MembershipDecodingError) {
        let id = try r.string(maxLength: MembershipCoding.maxIDLength)
        let address = try r.string(maxLength: MembershipCoding.maxAddressLength)
        let incarnation = try r.varint()
        guard let status = MemberStatus(rawValue: try r.byte()) else { throw .malformed("unknown status") }
        self.init(id: id, address: address, incarnation: incarnation, status: status)
    }
}
