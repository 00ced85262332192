// Small byte-level helpers shared by the parsers. They work on the readable bytes of a buffer
// with offsets relative to its reader index, and never allocate.

@usableFromInline let asciiCR: UInt8 = 0x0D
@usableFromInline let asciiLF: UInt8 = 0x0A

/// Result of looking for the `\r\n` that ends a header or simple line.
enum LineScan {
    /// The line's `\r` sits at this offset, and a `\n` follows it.
    case found(Int)
    /// Not enough bytes yet; searching may resume at `resumeAt` next time.
    case incomplete(resumeAt: Int)
    /// The line is longer than allowed.
    case tooLong
    /// A `\r` not followed by `\n`.
    case badTerminator
}

/// Finds the CRLF ending the line whose content starts at `start`, looking from `searchFrom`
/// (>= start; lets a caller resume a scan on more bytes). The content may be at most `maxLength` bytes.
@inline(__always)
func scanLine(_ bytes: UnsafeRawBufferPointer, start: Int, searchFrom: Int, maxLength: Int) -> LineScan {
    let limit = start &+ maxLength  // last allowed offset of the '\r'
    let end = min(bytes.count, limit &+ 1)
    var i = max(searchFrom, start)
    while i < end {
        if bytes[i] == asciiCR {
            if i &+ 1 >= bytes.count { return .incomplete(resumeAt: i) }
            return bytes[i &+ 1] == asciiLF ? .found(i) : .badTerminator
        }
        i &+= 1
    }
    return bytes.count > limit ? .tooLong : .incomplete(resumeAt: i)
}

/// Parses a strict decimal integer (optional `-`, then 1...19 digits, no overflow) from `bytes[from..<to]`.
@inline(__always)
func parseDecimal(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int64? {
    var i = from
    guard i < to else { return nil }
    let negative = bytes[i] == UInt8(ascii: "-")
    if negative { i &+= 1 }
    guard i < to else { return nil }
    var magnitude: UInt64 = 0
    while i < to {
        let digit = bytes[i] &- UInt8(ascii: "0")
        guard digit < 10 else { return nil }
        let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(UInt64(digit))
        guard !o1, !o2 else { return nil }
        magnitude = a
        i &+= 1
    }
    if negative {
        guard magnitude <= UInt64(Int64.max) &+ 1 else { return nil }
        return magnitude == UInt64(Int64.max) &+ 1 ? Int64.min : -Int64(magnitude)
    }
    guard magnitude <= UInt64(Int64.max) else { return nil }
    return Int64(magnitude)
}

/// ASCII lowercase letters to uppercase; every other byte unchanged.
@inline(__always)
func asciiUppercased(_ byte: UInt8) -> UInt8 {
    byte &- UInt8(ascii: "a") < 26 ? byte &- 0x20 : byte
}
