import KVCluster
import KVVersioning

/// The wire form of `AntiEntropyMessage`: format version, session id, flags, a tag, the body
/// (varints, fixed 8-byte digests, sibling sets in their stored encoding), then the 4-byte XXH3
/// checksum `VarintWriter` appends. The decoder validates every count, index and invariant and
/// throws `VersionDecodingError` on garbage, truncation or bit flips; it never traps.
public enum AntiEntropyCoding {
    public static let version: UInt8 = 1
    /// Most items (parents, digests, buckets, keys, sets) accepted in one list.
    public static let maxListLength = 1 << 20

    public static func encode(_ message: AntiEntropyMessage) -> [UInt8] {
        var w = VarintWriter()
        w.byte(version)
        w.varint(message.session)
        w.byte(message.fromInitiator ? 1 : 0)
        switch message.body {
        case let .begin(range, shape, root):
            w.byte(1)
            fixed(&w, range.raw)
            w.byte(UInt8(shape.fanoutBits))
            w.byte(UInt8(shape.depth))
            fixed(&w, root)
        case .inSync:
            w.byte(2)
        case let .digests(level, parents, digests):
            w.byte(3)
            w.varint(UInt64(level))
            w.varint(UInt64(parents.count))
            var previous = 0
            for (i, p) in parents.enumerated() {
                w.varint(UInt64(i == 0 ? p : p - previous))
                previous = p
            }
            w.varint(UInt64(digests.count))
            for d in digests { fixed(&w, d) }
        case let .entries(buckets):
            w.byte(4)
            w.varint(UInt64(buckets.count))
            for b in buckets {
                w.varint(UInt64(b.bucket))
                w.varint(UInt64(b.keys.count))
                for k in b.keys {
                    w.blob(k.key)
                    fixed(&w, k.digest)
                    w.versionVector(k.context)
                }
            }
        case let .objects(sets, want, isLast, more):
            w.byte(5)
            w.varint(UInt64(sets.count))
            for s in sets {
                w.blob(s.key)
                w.siblingSet(s.siblings)
            }
            w.varint(UInt64(want.count))
            for k in want { w.blob(k) }
            w.byte((isLast ? 1 : 0) | (more ? 2 : 0))
        case let .abort(reason):
            w.byte(6)
            w.byte(reason.rawValue)
        }
        return w.finish()
    }

    public static func decode(_ bytes: [UInt8]) throws(VersionDecodingError) -> AntiEntropyMessage {
        var r = try VarintReader(checked: bytes)
        let v = try r.byte()
        guard v == version else { throw .unknownVersion(v) }
        let session = try r.varint()
        let flags = try r.byte()
        guard flags <= 1 else { throw .malformed("unknown flags") }
        let tag = try r.byte()
        let body: AntiEntropyMessage.Body
        switch tag {
        case 1:
            let range = RangeID(raw: try fixed(&r))
            let fanoutBits = Int(try r.byte())
            let depth = Int(try r.byte())
            guard let shape = MerkleShape(fanoutBits: fanoutBits, depth: depth) else { throw .malformed("bad tree shape") }
            body = .begin(range: range, shape: shape, root: try fixed(&r))
        case 2:
            body = .inSync
        case 3:
            let level = try r.varint()
            guard level >= 1, level <= UInt64(MerkleShape.maxLeafBits) else { throw .malformed("bad level") }
            let n = try r.count(max: maxListLength)
            var parents: [Int] = []
            parents.reserveCapacity(n)
            var previous = 0
            for i in 0..<n {
                let delta = try r.varint()
                guard delta < UInt64(1 << MerkleShape.maxLeafBits), i == 0 || delta > 0 else {
                    throw .malformed("parents not increasing")
                }
                previous = i == 0 ? Int(delta) : previous + Int(delta)
                guard previous < 1 << MerkleShape.maxLeafBits else { throw .malformed("parent out of range") }
                parents.append(previous)
            }
            let m = try r.count(max: maxListLength)
            var digests: [UInt64] = []
            digests.reserveCapacity(m)
            for _ in 0..<m { digests.append(try fixed(&r)) }
            body = .digests(level: Int(level), parents: parents, digests: digests)
        case 4:
            let n = try r.count(max: maxListLength)
            var buckets: [BucketEntries] = []
            for _ in 0..<n {
                let bucket = try r.varint()
                guard bucket < UInt64(1 << MerkleShape.maxLeafBits) else { throw .malformed("bucket out of range") }
                let k = try r.count(max: maxListLength)
                var keys: [KeyVersion] = []
                for _ in 0..<k {
                    let key = Array(try r.blob(maxLength: ClusterCoding.maxKeyLength))
                    let digest = try fixed(&r)
                    keys.append(KeyVersion(key: key, digest: digest, context: try r.versionVector()))
                }
                buckets.append(BucketEntries(bucket: Int(bucket), keys: keys))
            }
            body = .entries(buckets)
        case 5:
            let n = try r.count(max: maxListLength)
            var sets: [KeyedSet] = []
            for _ in 0..<n {
                let key = Array(try r.blob(maxLength: ClusterCoding.maxKeyLength))
                sets.append(KeyedSet(key: key, siblings: try r.siblingSet()))
            }
            let m = try r.count(max: maxListLength)
            var want: [[UInt8]] = []
            for _ in 0..<m { want.append(Array(try r.blob(maxLength: ClusterCoding.maxKeyLength))) }
            let flags = try r.byte()
            guard flags <= 3 else { throw .malformed("unknown flags") }
            body = .objects(sets: sets, want: want, isLast: flags & 1 != 0, more: flags & 2 != 0)
        case 6:
            let raw = try r.byte()
            guard let reason = AbortReason(rawValue: raw) else { throw .malformed("unknown abort reason") }
            body = .abort(reason)
        default:
            throw .malformed("unknown message tag \(tag)")
        }
        guard r.atEnd else { throw .trailingBytes }
        return AntiEntropyMessage(session: session, fromInitiator: flags == 1, body: body)
    }

    /// Encoded size of one key and set as they travel in `.objects` (the "differing data" measure).
    public static func objectSize(_ set: KeyedSet) -> Int {
        var w = VarintWriter()
        w.blob(set.key)
        w.siblingSet(set.siblings)
        return w.bytes.count
    }

    private static func fixed(_ w: inout VarintWriter, _ v: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { w.byte(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    private static func fixed(_ r: inout VarintReader) throws(VersionDecodingError) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(try r.byte()) << UInt64(8 * k) }
        return v
    }
}
