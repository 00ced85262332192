/// The `$<length>\r\n` header of a bulk string, remembered for the last length it was asked for as one 8-byte
/// word. A load generator sends values of one length and keys of nearly one length (YCSB's hashed keys have 19
/// digits nine times in ten), so most headers cost a compare and one store instead of counting and storing
/// digits, twice (once to size the command, once to write it).
///
/// Only lengths of 2…99,999 are remembered: their headers fit a word (`$` + at most 5 digits + CRLF), and the
/// word may be stored whole because the payload (at least 2 bytes) and its CRLF follow the header, so 8 bytes
/// from the header's start are always inside the bulk string. Other lengths take the plain encoder.
public struct BulkHeaderMemo: Sendable {
    @usableFromInline var length = -1
    @usableFromInline var word: UInt64 = 0
    @usableFromInline var size = 0

    public init() {}

    /// Whether `length` can be remembered (its header fits a word and may be stored whole).
    @inlinable @inline(__always)
    public static func covers(_ length: Int) -> Bool { length >= 2 && length < 100_000 }

    /// The bytes of a whole bulk string with a `length`-byte payload: `$<length>\r\n<payload>\r\n`. `length`
    /// must be `covered`; it becomes the remembered one.
    @inlinable @inline(__always)
    public mutating func bulkStringLength(_ length: Int) -> Int {
        if length != self.length { remember(length) }
        return size &+ length &+ 2
    }

    /// Stores `$<payload.count>\r\n<payload>\r\n` at `at` and returns the bytes stored. `payload.count` must be
    /// the length last passed to `bulkStringLength` (so it is remembered).
    @inlinable @inline(__always)
    @discardableResult
    public func storeBulkString(_ payload: UnsafeRawBufferPointer, at: UnsafeMutableRawPointer) -> Int {
        let count = payload.count
        at.storeBytes(of: word, as: UInt64.self)
        if let base = payload.baseAddress { RESPEncoding.copy(base, count: count, to: at + size) }
        RESPEncoding.storeCRLF(at: at + (size &+ count))
        return size &+ count &+ 2
    }

    @usableFromInline
    mutating func remember(_ length: Int) {
        precondition(Self.covers(length), "bulk length \(length) is outside 2...99999")
        var bytes: UInt64 = 0
        let stored = withUnsafeMutableBytes(of: &bytes) { RESPEncoding.storeHeader(UInt8(ascii: "$"), length, at: $0.baseAddress!) }
        self.length = length
        word = bytes
        size = stored
    }
}
