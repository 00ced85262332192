import KVHash

/// Where the binary codecs write their fields: `VarintWriter` (a growing array, for records built
/// field by field), `VarintSizer` (adds lengths up, writes nothing) and `VarintFixedWriter` (stores
/// into a buffer the sizer measured). A codec written once against this protocol runs on all three;
/// `VarintRecord.checksummedBytes()` uses the last two to build a record in one exact allocation with
/// no per-byte capacity checks (the hot path: stored objects and peer messages on every write).
public protocol VarintSink {
    /// Appends one byte.
    mutating func byte(_ b: UInt8)
    /// Appends bytes as they are.
    mutating func raw(_ bytes: UnsafeRawBufferPointer)
    /// Appends `v` as an LEB128 varint (7 bits per byte, low group first).
    mutating func varint(_ v: UInt64)
    /// Appends a length-prefixed UTF-8 string.
    mutating func string(_ s: String)
}

extension VarintSink {
    @inlinable public mutating func varint(_ v: UInt64) {
        var x = v
        while x >= 0x80 {
            byte(UInt8(truncatingIfNeeded: x) | 0x80)
            x >>= 7
        }
        byte(UInt8(x))
    }

    @inlinable public mutating func string(_ s: String) {
        varint(UInt64(s.utf8.count))
        if s.utf8.withContiguousStorageIfAvailable({ raw(UnsafeRawBufferPointer($0)) }) == nil {
            for b in s.utf8 { byte(b) }
        }
    }

    /// A length-prefixed byte string.
    @inlinable public mutating func blob(_ b: some Collection<UInt8>) {
        varint(UInt64(b.count))
        if b.withContiguousStorageIfAvailable({ raw(UnsafeRawBufferPointer($0)) }) == nil {
            for x in b { byte(x) }
        }
    }

    /// An actor: its node id, then its epoch.
    @inlinable public mutating func actor(_ a: Actor) {
        string(a.node)
        varint(UInt64(a.epoch))
    }

    /// A dot: its actor, then its counter.
    @inlinable public mutating func dot(_ d: Dot) {
        actor(d.actor)
        varint(d.counter)
    }

    /// A version vector body: the entry count, then each actor and its counter.
    @inlinable public mutating func versionVector(_ v: VersionVector) {
        varint(UInt64(v.entries.count))
        for e in v.entries {
            actor(e.actor)
            varint(e.counter)
        }
    }

    /// A sibling set's body (no version byte, no checksum): for embedding in larger records. Each
    /// sibling names its dot's actor by its index in the context.
    @inlinable public mutating func siblingSet(_ set: SiblingSet) {
        versionVector(set.context)
        varint(UInt64(set.siblings.count))
        let entries = set.context.entries
        for s in set.siblings {
            let actorIndex = entries.firstIndex { $0.actor == s.dot.actor } ?? 0
            varint(UInt64(actorIndex))
            varint(s.dot.counter)
            varint(s.timestamp)
            byte(s.isTombstone ? 1 : 0)
            blob(s.value)
        }
    }
}

/// Counts the bytes a record will take (the first of `VarintRecord`'s two passes).
public struct VarintSizer: VarintSink {
    public var count = 0

    @inlinable public init() {}

    @inlinable public mutating func byte(_ b: UInt8) { count += 1 }

    @inlinable public mutating func raw(_ bytes: UnsafeRawBufferPointer) { count += bytes.count }

    @inlinable public mutating func varint(_ v: UInt64) {
        count += v < 0x80 ? 1 : (70 - v.leadingZeroBitCount) / 7
    }

    @inlinable public mutating func string(_ s: String) {
        let n = s.utf8.count
        varint(UInt64(n))
        count += n
    }
}

/// Stores a record into a buffer of known size (the second pass). Writing past the end traps instead
/// of corrupting memory, so a sizer that disagreed with the writer is caught at once.
public struct VarintFixedWriter: VarintSink {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let capacity: Int
    /// Bytes written so far.
    public var count: Int { written }
    @usableFromInline var written = 0

    @inlinable public init(_ buffer: UnsafeMutableRawBufferPointer) {
        base = buffer.baseAddress!
        capacity = buffer.count
    }

    @inlinable public mutating func byte(_ b: UInt8) {
        precondition(written < capacity, "record larger than measured")
        base.storeBytes(of: b, toByteOffset: written, as: UInt8.self)
        written += 1
    }

    @inlinable public mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        precondition(bytes.count <= capacity - written, "record larger than measured")
        (base + written).copyMemory(from: source, byteCount: bytes.count)
        written += bytes.count
    }
}

/// A value the codecs write in two passes (`write(to:)` must write the same bytes every time).
public protocol VarintRecord {
    func write<S: VarintSink>(to sink: inout S)
}

extension VarintRecord {
    /// The record's bytes followed by the checksum `VarintWriter.finish()` appends (the same bytes that
    /// writing it into a `VarintWriter` and finishing would give), in an array of the exact size.
    @inlinable public func checksummedBytes() -> [UInt8] {
        let size = measuredSize()
        if size + VarintWriter.checksumBytes > Self.scratchLimit {
            // A large record is written straight into its array: one allocation, no copy.
            var bytes = [UInt8](repeating: 0, count: size + VarintWriter.checksumBytes)
            bytes.withUnsafeMutableBytes { fill($0, size: size) }
            return bytes
        }
        // A small one is built on the stack and copied: `Array(UnsafeRawBufferPointer)` is specialized
        // here, while the array initializers that hand out uninitialized storage reach a generic
        // allocator that looks the storage class's metadata up on every call.
        return withChecksummedBytes(size: size) { [UInt8]($0) }
    }

    /// Calls `body` with the record's checksummed bytes, built on the stack when they are small (no
    /// heap allocation at all, for a record that is only hashed or copied elsewhere).
    @inlinable public func withChecksummedBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        withChecksummedBytes(size: measuredSize(), body)
    }

    /// The record's length without its checksum (the sizing pass). This and the helper below are
    /// always inlined: left as calls, they made encoding a `replicate` message 10 % slower.
    @inlinable @inline(__always) func measuredSize() -> Int {
        var sizer = VarintSizer()
        write(to: &sizer)
        return sizer.count
    }

    /// `withChecksummedBytes` for a record already measured at `size` bytes.
    @inlinable @inline(__always)
    func withChecksummedBytes<R>(size: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let total = size + VarintWriter.checksumBytes
        if total <= Self.scratchLimit {
            return withUnsafeTemporaryAllocation(byteCount: total, alignment: 1) { raw in
                fill(raw, size: size)
                return body(UnsafeRawBufferPointer(raw))
            }
        }
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: total, alignment: 1)
        defer { raw.deallocate() }
        fill(raw, size: size)
        return body(UnsafeRawBufferPointer(raw))
    }

    /// Largest record built on the stack.
    @inlinable static var scratchLimit: Int { 2048 }

    /// Writes the record (`size` bytes, as measured) and its checksum into `raw`.
    @inlinable func fill(_ raw: UnsafeMutableRawBufferPointer, size: Int) {
        var w = VarintFixedWriter(raw)
        write(to: &w)
        precondition(w.count == size, "record size changed between passes")
        let sum = VarintWriter.checksum(UnsafeRawBufferPointer(rebasing: raw[..<size]))
        raw.storeBytes(of: sum.littleEndian, toByteOffset: size, as: UInt32.self)
    }
}
