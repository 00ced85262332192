import KVVersioning

/// Binary encodings for what a shell persists (`StoredObject`, `Hint`) and sends to peers
/// (`PeerMessage`): a version byte, varint-coded fields, a 4-byte checksum. Decoders validate
/// everything and throw `VersionDecodingError` on garbage; frames add only a length prefix.
public enum ClusterCoding {
    public static let version: UInt8 = 1
    /// Longest key accepted (1 MiB).
    public static let maxKeyLength = 1 << 20
    /// Longest node id accepted.
    public static let maxNodeIDLength = 255
    /// Largest anti-entropy frame carried (its objects are capped well below this).
    public static let maxAntiEntropyFrame = 128 << 20
    /// Most remembered stamps accepted per stored object.
    public static let maxRememberedStamps = 4096

    // MARK: StoredObject

    public static func encode(_ object: StoredObject) -> [UInt8] { StoredObjectRecord(object: object).checksummedBytes() }

    private struct StoredObjectRecord: VarintRecord {
        let object: StoredObject
        func write<S: VarintSink>(to w: inout S) { ClusterCoding.write(object, to: &w) }
    }

    static func write<S: VarintSink>(_ object: StoredObject, to w: inout S) {
        w.byte(version)
        w.byte(object.stampEpoch == nil ? 0 : 1)
        if let e = object.stampEpoch { w.varint(UInt64(e)) }
        w.varint(UInt64(object.recentStamps.count))
        for s in object.recentStamps {
            w.string(s.origin.coordinator)
            w.varint(s.origin.request)
            w.dot(s.dot)
        }
        w.siblingSet(object.siblings)
    }

    public static func decodeStoredObject(_ bytes: [UInt8]) throws(VersionDecodingError) -> StoredObject {
        var r = try reader(bytes)
        let flags = try r.byte()
        guard flags <= 1 else { throw .malformed("unknown flags") }
        var epoch: UInt32?
        if flags == 1 { epoch = try uint32(&r) }
        let n = try r.count(max: maxRememberedStamps)
        var stamps: [StoredObject.RecentStamp] = []
        stamps.reserveCapacity(n)
        for _ in 0..<n {
            let coordinator = try r.string(maxLength: maxNodeIDLength)
            let request = try r.varint()
            stamps.append(.init(origin: StampOrigin(coordinator: coordinator, request: request), dot: try r.dot()))
        }
        let set = try r.siblingSet()
        guard r.atEnd else { throw .trailingBytes }
        return StoredObject(siblings: set, stampEpoch: epoch, recentStamps: stamps)
    }

    // MARK: Hint

    public static func encode(_ hint: Hint) -> [UInt8] {
        var w = VarintWriter()
        w.byte(version)
        w.string(hint.owner)
        w.blob(hint.key)
        w.varint(hint.sequence)
        w.varint(hint.createdAt)
        return w.finish()
    }

    public static func decodeHint(_ bytes: [UInt8]) throws(VersionDecodingError) -> Hint {
        var r = try reader(bytes)
        let owner = try r.string(maxLength: maxNodeIDLength)
        let key = try Array(r.blob(maxLength: maxKeyLength))
        let hint = Hint(owner: owner, key: key, sequence: try r.varint(), createdAt: try r.varint())
        guard r.atEnd else { throw .trailingBytes }
        return hint
    }

    // MARK: PeerMessage

    public static func encode(_ message: PeerMessage) -> [UInt8] { PeerMessageRecord(message: message).checksummedBytes() }

    private struct PeerMessageRecord: VarintRecord {
        let message: PeerMessage
        func write<S: VarintSink>(to w: inout S) { ClusterCoding.write(message, to: &w) }
    }

    static func write<S: VarintSink>(_ message: PeerMessage, to w: inout S) {
        w.byte(version)
        switch message {
        case let .stampPut(request, key, value, isTombstone, context, supersedeLocal, timestamp, hintFor):
            w.byte(1)
            w.varint(request)
            w.blob(key)
            w.blob(value)
            w.byte((isTombstone ? 1 : 0) | (supersedeLocal ? 2 : 0))
            w.versionVector(context)
            w.varint(timestamp)
            optionalNode(&w, hintFor)
        case let .stamped(request, object, dot):
            w.byte(2)
            w.varint(request)
            w.byte((object == nil ? 0 : 1) | (dot == nil ? 0 : 2))
            if let object { w.siblingSet(object) }
            if let dot { w.dot(dot) }
        case let .replicate(request, key, object, hintFor):
            w.byte(3)
            w.varint(request)
            w.blob(key)
            w.siblingSet(object)
            optionalNode(&w, hintFor)
        case let .replicated(request, accepted):
            w.byte(4)
            w.varint(request)
            w.byte(accepted ? 1 : 0)
        case let .get(request, key):
            w.byte(5)
            w.varint(request)
            w.blob(key)
        case let .got(request, object):
            w.byte(6)
            w.varint(request)
            w.byte(object == nil ? 0 : 1)
            if let object { w.siblingSet(object) }
        case let .repair(key, object, hintFor):
            w.byte(7)
            w.blob(key)
            w.siblingSet(object)
            optionalNode(&w, hintFor)
        case let .reapTombstones(key, context):
            w.byte(8)
            w.blob(key)
            w.versionVector(context)
        case let .handoff(hint, key, object):
            w.byte(9)
            w.varint(hint)
            w.blob(key)
            w.siblingSet(object)
        case let .handoffAck(hint, key):
            w.byte(10)
            w.varint(hint)
            w.blob(key)
        case let .transfer(id, key, object):
            w.byte(11)
            w.varint(id)
            w.blob(key)
            w.siblingSet(object)
        case let .transferAck(id, key):
            w.byte(12)
            w.varint(id)
            w.blob(key)
        case let .antiEntropy(bytes):
            w.byte(13)
            w.blob(bytes)
        case let .membership(bytes):
            w.byte(14)
            w.blob(bytes)
        }
    }

    public static func decodePeerMessage(_ bytes: [UInt8]) throws(VersionDecodingError) -> PeerMessage {
        var r = try reader(bytes)
        let tag = try r.byte()
        let message: PeerMessage
        switch tag {
        case 1:
            let request = try r.varint()
            let key = try key(&r)
            let value = try Array(r.blob(maxLength: SiblingSetCoding.maxValueLength))
            let flags = try r.byte()
            guard flags <= 3 else { throw .malformed("unknown flags") }
            let context = try r.versionVector()
            let timestamp = try r.varint()
            message = .stampPut(request: request, key: key, value: value, isTombstone: flags & 1 != 0,
                                context: context, supersedeLocal: flags & 2 != 0, timestamp: timestamp,
                                hintFor: try optionalNode(&r))
        case 2:
            let request = try r.varint()
            let flags = try r.byte()
            guard flags <= 3 else { throw .malformed("unknown flags") }
            let object = flags & 1 != 0 ? try r.siblingSet() : nil
            let dot = flags & 2 != 0 ? try r.dot() : nil
            message = .stamped(request: request, object: object, dot: dot)
        case 3:
            let request = try r.varint()
            let key = try key(&r)
            let object = try r.siblingSet()
            message = .replicate(request: request, key: key, object: object, hintFor: try optionalNode(&r))
        case 4:
            let request = try r.varint()
            message = .replicated(request: request, accepted: try bool(&r))
        case 5:
            let request = try r.varint()
            message = .get(request: request, key: try key(&r))
        case 6:
            let request = try r.varint()
            message = .got(request: request, object: try bool(&r) ? try r.siblingSet() : nil)
        case 7:
            let key = try key(&r)
            let object = try r.siblingSet()
            message = .repair(key: key, object: object, hintFor: try optionalNode(&r))
        case 8:
            let key = try key(&r)
            message = .reapTombstones(key: key, context: try r.versionVector())
        case 9:
            let hint = try r.varint()
            let key = try key(&r)
            message = .handoff(hint: hint, key: key, object: try r.siblingSet())
        case 10:
            let hint = try r.varint()
            message = .handoffAck(hint: hint, key: try key(&r))
        case 11:
            let id = try r.varint()
            let k = try key(&r)
            message = .transfer(id: id, key: k, object: try r.siblingSet())
        case 12:
            let id = try r.varint()
            message = .transferAck(id: id, key: try key(&r))
        case 13:
            message = .antiEntropy(bytes: Array(try r.blob(maxLength: maxAntiEntropyFrame)))
        case 14:
            message = .membership(bytes: Array(try r.blob(maxLength: 1 << 20)))
        default:
            throw .malformed("unknown message tag \(tag)")
        }
        guard r.atEnd else { throw .trailingBytes }
        return message
    }

    // MARK: Helpers

    private static func reader(_ bytes: [UInt8]) throws(VersionDecodingError) -> VarintReader {
        var r = try VarintReader(checked: bytes)
        let v = try r.byte()
        guard v == version else { throw .unknownVersion(v) }
        return r
    }

    private static func key(_ r: inout VarintReader) throws(VersionDecodingError) -> [UInt8] {
        Array(try r.blob(maxLength: maxKeyLength))
    }

    private static func bool(_ r: inout VarintReader) throws(VersionDecodingError) -> Bool {
        let b = try r.byte()
        guard b <= 1 else { throw .malformed("bad boolean") }
        return b == 1
    }

    private static func uint32(_ r: inout VarintReader) throws(VersionDecodingError) -> UInt32 {
        let v = try r.varint()
        guard v <= UInt64(UInt32.max) else { throw .malformed("value too large") }
        return UInt32(v)
    }

    private static func optionalNode<S: VarintSink>(_ w: inout S, _ node: NodeID?) {
        w.byte(node == nil ? 0 : 1)
        if let node { w.string(node) }
    }

    private static func optionalNode(_ r: inout VarintReader) throws(VersionDecodingError) -> NodeID? {
        guard try bool(&r) else { return nil }
        let node = try r.string(maxLength: maxNodeIDLength)
        guard !node.isEmpty else { throw .malformed("empty node id") }
        return node
    }
}
