/// A byte-string key for hash tables on the hot path. `[UInt8]`'s own `Hashable` feeds the hasher one
/// byte per call (17 calls for a 16-byte key); this one feeds the whole buffer at once, so a lookup
/// hashes in a few nanoseconds instead of over a hundred. Equality is the bytes'.
public struct BytesKey: Hashable, Sendable {
    public let bytes: [UInt8]

    @inlinable public init(_ bytes: [UInt8]) { self.bytes = bytes }

    @inlinable public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    @inlinable public static func == (a: BytesKey, b: BytesKey) -> Bool { a.bytes == b.bytes }
}
