import CXXHash

/// XXH3-64 and XXH64 from the system's libxxhash: the one hash the project uses for ring
/// placement, Merkle digests and record checksums, so every process agrees on every value.
public enum XXH3 {
    /// XXH3-64 of raw bytes.
    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        if seed == 0 {
            return XXH3_64bits(bytes.baseAddress, bytes.count)
        }
        return XXH3_64bits_withSeed(bytes.baseAddress, bytes.count, seed)
    }

    /// XXH3-64 of a byte collection that exposes contiguous storage (arrays, slices, ByteBufferView...).
    @inlinable
    public static func hash<Bytes: Sequence>(_ bytes: Bytes, seed: UInt64 = 0) -> UInt64 where Bytes.Element == UInt8 {
        if let h = bytes.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0), seed: seed) }) {
            return h
        }
        let copy = Array(bytes)
        return copy.withUnsafeBytes { hash($0, seed: seed) }
    }

    /// XXH3-64 of a string's UTF-8 bytes.
    @inlinable
    public static func hash(_ string: String, seed: UInt64 = 0) -> UInt64 {
        var s = string
        return s.withUTF8 { hash(UnsafeRawBufferPointer($0), seed: seed) }
    }

    /// XXH3-64 of the 8 little-endian bytes of an integer (used to derive tokens and scramble ids).
    @inlinable
    public static func hash(_ value: UInt64, seed: UInt64 = 0) -> UInt64 {
        var v = value.littleEndian
        return withUnsafeBytes(of: &v) { hash($0, seed: seed) }
    }

    /// The linked library's version number (e.g. 801 for 0.8.1).
    public static var libraryVersion: UInt32 { XXH_versionNumber() }
}

/// XXH64 (the older 64-bit xxHash), kept for compatibility with tools that use it.
public enum XXH64 {
    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        CXXHash.XXH64(bytes.baseAddress, bytes.count, seed)
    }
}

/// An incremental XXH3-64 hasher for data that arrives in pieces (records written in parts).
public struct XXH3Stream: ~Copyable {
    @usableFromInline let state: OpaquePointer

    public init(seed: UInt64 = 0) {
        state = XXH3_createState()!
        XXH3_64bits_reset_withSeed(state, seed)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        XXH3_64bits_update(state, bytes.baseAddress, bytes.count)
    }

    public func digest() -> UInt64 {
        XXH3_64bits_digest(state)
    }

    deinit {
        XXH3_freeState(state)
    }
}
