import KVHash

/// Why bytes could not be decoded as a causal context or sibling set.
public enum VersionDecodingError: Error, Equatable, Sendable {
    case truncated
    case unknownVersion(UInt8)
    case badChecksum
    case malformed(String)
    case trailingBytes
}

/// Builds a checksummed binary record in a growing array: bytes, LEB128 varints, length-prefixed
/// blobs and strings, actors, version vectors and sibling sets (`VarintSink`'s methods); `finish()`
/// appends a 4-byte checksum (low half of XXH3-64) over everything before it. Shared by this module's
/// codecs and the cluster's; hot records use `VarintRecord.checksummedBytes()` instead.
public struct VarintWriter: VarintSink {
    /// The record so far (appended to only through this type's methods).
    public var bytes: [UInt8] { storage }
    @usableFromInline var storage: [UInt8] = []

    public init() {}

    @inlinable public mutating func byte(_ b: UInt8) { storage.append(b) }

    @inlinable public mutating func raw(_ bytes: UnsafeRawBufferPointer) { storage.append(contentsOf: bytes) }

    /// Length of the trailing checksum.
    public static let checksumBytes = 4

    /// The checksum of a record's bytes (stored little-endian after them).
    @inlinable public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        UInt32(truncatingIfNeeded: XXH3.hash(bytes, seed: checksumSeed))
    }

    @usableFromInline static let checksumSeed: UInt64 = 0x4B56_4456

    /// Appends the checksum and returns the finished bytes.
    public mutating func finish() -> [UInt8] {
        let sum = storage.withUnsafeBytes { Self.checksum($0) }
        for shift in stride(from: 0, to: 32, by: 8) { storage.append(UInt8(truncatingIfNeeded: sum >> UInt32(shift))) }
        return storage
    }
}

/// Reads a record written by `VarintWriter`, after verifying its checksum; every read is bounds-
/// checked and throws `VersionDecodingError` instead of trapping.
public struct VarintReader {
    let bytes: [UInt8]
    var index = 0
    let end: Int

    /// Checks the trailing checksum and positions the reader on the payload.
    public init(checked bytes: [UInt8]) throws(VersionDecodingError) {
        guard bytes.count >= 5 else { throw .truncated }
        self.bytes = bytes
        end = bytes.count - 4
        var stored: UInt32 = 0
        for k in 0..<4 { stored |= UInt32(bytes[end + k]) << UInt32(8 * k) }
        let sum = bytes.withUnsafeBytes { VarintWriter.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<end])) }
        guard sum == stored else { throw .badChecksum }
    }

    public var atEnd: Bool { index == end }

    public mutating func byte() throws(VersionDecodingError) -> UInt8 {
        guard index < end else { throw .truncated }
        defer { index += 1 }
        return bytes[index]
    }

    /// A varint; one-byte values (most counts, indices and flags) are read inline.
    @inline(__always)
    public mutating func varint() throws(VersionDecodingError) -> UInt64 {
        if index < end {
            let b = bytes[index]
            if b < 0x80 {
                index += 1
                return UInt64(b)
            }
        }
        return try multiByteVarint()
    }

    @inline(never)
    mutating func multiByteVarint() throws(VersionDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            if shift == 63 && b > 1 { throw .malformed("varint overflow") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw .malformed("varint too long") }
        }
    }

    public mutating func count(max: Int) throws(VersionDecodingError) -> Int {
        let n = try varint()
        guard n <= UInt64(max), n <= UInt64(end - index) || max == 0 else { throw .malformed("count too large") }
        return Int(n)
    }

    public mutating func blob(maxLength: Int) throws(VersionDecodingError) -> ArraySlice<UInt8> {
        let n = try varint()
        guard n <= UInt64(maxLength) else { throw .malformed("length too large") }
        guard n <= UInt64(end - index) else { throw .truncated }
        defer { index += Int(n) }
        return bytes[index..<(index + Int(n))]
    }

    public mutating func actor() throws(VersionDecodingError) -> Actor {
        let raw = try blob(maxLength: 255)
        guard !raw.isEmpty else { throw .malformed("empty node id") }
        guard let node = Self.validUTF8(raw) else { throw .malformed("node id is not UTF-8") }
        let epoch = try varint()
        guard epoch <= UInt64(UInt32.max) else { throw .malformed("epoch too large") }
        return Actor(node: node, epoch: UInt32(epoch))
    }

    /// Reads a version vector body: count, then strictly increasing actors with non-zero counters.
    public mutating func versionVector() throws(VersionDecodingError) -> VersionVector {
        let n = try count(max: CausalContextCoding.maxActors)
        var entries: [VersionVector.Entry] = []
        entries.reserveCapacity(n)
        for _ in 0..<n {
            let a = try actor()
            let c = try varint()
            guard c > 0 else { throw .malformed("zero counter") }
            if let last = entries.last, !(last.actor < a) { throw .malformed("actors not sorted") }
            entries.append(.init(actor: a, counter: c))
        }
        return VersionVector(sortedEntries: entries)
    }
}

/// The opaque causal context clients carry between a read and a write: a version byte, the
/// version vector, and a checksum. Garbage, truncation and bit flips are rejected with an error.
public enum CausalContextCoding {
    /// Current format version.
    public static let version: UInt8 = 1
    /// Largest number of actors accepted in one context.
    public static let maxActors = 4096

    /// Encodes a context.
    public static func encode(_ context: VersionVector) -> [UInt8] { Record(context: context).checksummedBytes() }

    private struct Record: VarintRecord {
        let context: VersionVector
        func write<S: VarintSink>(to w: inout S) {
            w.byte(version)
            w.versionVector(context)
        }
    }

    /// Decodes a context; empty input is the empty context (a blind write).
    public static func decode(_ bytes: [UInt8]) throws(VersionDecodingError) -> VersionVector {
        if bytes.isEmpty { return VersionVector() }
        var r = try VarintReader(checked: bytes)
        let v = try r.byte()
        guard v == version else { throw .unknownVersion(v) }
        let vv = try r.versionVector()
        guard r.atEnd else { throw .trailingBytes }
        return vv
    }
}

/// The stored and replicated form of a `SiblingSet`: version byte, context, then each sibling as
/// (index of its actor in the context, counter, timestamp, flags, value), then a checksum.
public enum SiblingSetCoding {
    public static let version: UInt8 = 1
    /// Largest value accepted (64 MiB).
    public static let maxValueLength = 64 << 20
    /// Largest sibling count accepted.
    public static let maxSiblings = 65_536

    public static func encode(_ set: SiblingSet) -> [UInt8] { Record(set: set).checksummedBytes() }

    /// Calls `body` with what `encode` returns, without putting it in an array (for hashing).
    @inlinable
    public static func withEncoding<R>(_ set: SiblingSet, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        Record(set: set).withChecksummedBytes(body)
    }

    @usableFromInline struct Record: VarintRecord {
        @usableFromInline let set: SiblingSet
        @inlinable init(set: SiblingSet) { self.set = set }
        @inlinable func write<S: VarintSink>(to w: inout S) {
            w.byte(version)
            w.siblingSet(set)
        }
    }

    public static func decode(_ bytes: [UInt8]) throws(VersionDecodingError) -> SiblingSet {
        var r = try VarintReader(checked: bytes)
        let v = try r.byte()
        guard v == version else { throw .unknownVersion(v) }
        let set = try r.siblingSet()
        guard r.atEnd else { throw .trailingBytes }
        return set
    }
}

extension VarintReader {
    /// Reads a body written by `VarintSink.siblingSet(_:)`, validating every invariant.
    public mutating func siblingSet() throws(VersionDecodingError) -> SiblingSet {
        let context = try versionVector()
        let n = try count(max: SiblingSetCoding.maxSiblings)
        var siblings: [Sibling] = []
        siblings.reserveCapacity(n)
        for _ in 0..<n {
            let ai = try varint()
            guard ai < UInt64(context.entries.count) else { throw .malformed("actor index out of range") }
            let actor = context.entries[Int(ai)].actor
            let counter = try varint()
            guard counter > 0, counter <= context[actor] else { throw .malformed("dot outside context") }
            let ts = try varint()
            let flags = try byte()
            guard flags <= 1 else { throw .malformed("unknown flags") }
            let value = try blob(maxLength: SiblingSetCoding.maxValueLength)
            let dot = Dot(actor: actor, counter: counter)
            if let last = siblings.last, !(last.dot < dot) { throw .malformed("siblings not sorted") }
            siblings.append(Sibling(dot: dot, timestamp: ts, isTombstone: flags == 1, value: Array(value)))
        }
        // Checked above: sorted by dot, and every dot inside the context.
        return SiblingSet(validatedContext: context, sortedSiblings: siblings)
    }

    /// Reads a dot written by `VarintSink.dot(_:)`.
    public mutating func dot() throws(VersionDecodingError) -> Dot {
        let a = try actor()
        let c = try varint()
        guard c > 0 else { throw .malformed("zero counter") }
        return Dot(actor: a, counter: c)
    }

    /// Reads a length-prefixed UTF-8 string of at most `maxLength` bytes.
    public mutating func string(maxLength: Int) throws(VersionDecodingError) -> String {
        let raw = try blob(maxLength: maxLength)
        guard let s = Self.validUTF8(raw) else { throw .malformed("not UTF-8") }
        return s
    }

    /// The string these bytes spell, or nil when they are not valid UTF-8. ASCII (every node id in
    /// practice) is taken as it is; anything else is decoded and compared with the input, since
    /// `String(decoding:)` replaces invalid sequences instead of rejecting them.
    static func validUTF8(_ raw: ArraySlice<UInt8>) -> String? {
        raw.withUnsafeBufferPointer { b in
            var ascii = true
            for x in b where x >= 0x80 { ascii = false; break }
            let s = String(decoding: b, as: UTF8.self)
            return ascii || s.utf8.elementsEqual(b) ? s : nil
        }
    }
}
