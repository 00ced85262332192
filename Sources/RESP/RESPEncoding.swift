/// Raw-memory building blocks for the fused writers: a caller reserves the exact length once
/// (`ByteBuffer.writeWithUnsafeMutableBytes`) and stores header, payload and trailer with plain copies,
/// instead of one bounds-checked `ByteBuffer` call per piece.
public enum RESPEncoding {
    @usableFromInline static let getHeader: StaticString = "*2\r\n$3\r\nGET\r\n"
    @usableFromInline static let setHeader: StaticString = "*3\r\n$3\r\nSET\r\n"

    /// Number of decimal digits of `v` (1 for 0).
    @inlinable
    public static func decimalDigits(_ v: Int) -> Int {
        var digits = 1
        var probe = v.magnitude
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        return digits
    }

    /// Bytes of `$<count>\r\n<payload>\r\n`.
    @inlinable
    public static func bulkStringLength(_ count: Int) -> Int {
        1 + decimalDigits(count) + 2 + count + 2
    }

    /// Stores `$<len>\r\n<bytes>\r\n` at `at` (room for `bulkStringLength(bytes.count)` bytes) and returns
    /// the number of bytes stored.
    @inlinable
    @discardableResult
    public static func storeBulkString(_ bytes: UnsafeRawBufferPointer, at: UnsafeMutableRawPointer) -> Int {
        let count = bytes.count
        let digits = decimalDigits(count)
        at.storeBytes(of: UInt8(ascii: "$"), as: UInt8.self)
        var position = digits
        var rest = count
        repeat {
            at.storeBytes(of: UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10), toByteOffset: position, as: UInt8.self)
            rest /= 10
            position -= 1
        } while rest > 0
        at.storeBytes(of: asciiCR, toByteOffset: digits + 1, as: UInt8.self)
        at.storeBytes(of: asciiLF, toByteOffset: digits + 2, as: UInt8.self)
        let payload = digits + 3
        if count > 0 { (at + payload).copyMemory(from: bytes.baseAddress!, byteCount: count) }
        at.storeBytes(of: asciiCR, toByteOffset: payload + count, as: UInt8.self)
        at.storeBytes(of: asciiLF, toByteOffset: payload + count + 1, as: UInt8.self)
        return payload + count + 2
    }
}
