import KVHash

/// Appends bytes, LEB128 varints and length-prefixed strings; `finish()` adds a 4-byte checksum.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func byte(_ b: UInt8) { bytes.append(b) }

    mutating func varint(_ v: UInt64) {
        var x = v
        while x >= 0x80 {
            bytes.append(UInt8(x & 0x7F) | 0x80)
            x >>= 7
        }
        bytes.append(UInt8(x))
    }

    mutating func string(_ s: String) {
        varint(UInt64(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
    }

    mutating func finish() -> [UInt8] {
        let sum = ByteReader.checksum(bytes[...])
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: sum >> UInt32(shift))) }
        return bytes
    }
}

/// Reads what `ByteWriter` wrote after checking the checksum; every read is bounds-checked and
/// throws instead of trapping.
struct ByteReader {
    private let bytes: [UInt8]
    private var index = 0
    private let end: Int

    static func checksum(_ payload: ArraySlice<UInt8>) -> UInt32 {
        UInt32(truncatingIfNeeded: XXH3.hash(payload, seed: 0x5357_494D))
    }

    init(checked bytes: [UInt8]) throws(MembershipDecodingError) {
        guard bytes.count >= 5 else { throw .truncated }
        guard bytes.count <= MembershipCoding.maxMessageSize else { throw .tooLarge }
        self.bytes = bytes
        end = bytes.count - 4
        var stored: UInt32 = 0
        for k in 0..<4 { stored |= UInt32(bytes[end + k]) << UInt32(8 * k) }
        guard Self.checksum(bytes[0..<end]) == stored else { throw .badChecksum }
    }

    var atEnd: Bool { index == end }

    mutating func byte() throws(MembershipDecodingError) -> UInt8 {
        guard index < end else { throw .truncated }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func varint() throws(MembershipDecodingError) -> UInt64 {
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

    /// A count of items that each take at least one byte (so it cannot exceed what is left).
    mutating func count(max: Int) throws(MembershipDecodingError) -> Int {
        let n = try varint()
        guard n <= UInt64(max) else { throw .malformed("count too large") }
        guard n <= UInt64(end - index) else { throw .truncated }
        return Int(n)
    }

    /// A non-empty UTF-8 string of at most `maxLength` bytes.
    mutating func string(maxLength: Int) throws(MembershipDecodingError) -> String {
        let n = try varint()
        guard n > 0 else { throw .malformed("empty string") }
        guard n <= UInt64(maxLength) else { throw .malformed("string too long") }
        guard n <= UInt64(end - index) else { throw .truncated }
        let raw = bytes[index..<(index + Int(n))]
        index += Int(n)
        let s = String(decoding: raw, as: UTF8.self)
        guard s.utf8.elementsEqual(raw) else { throw .malformed("not UTF-8") }
        return s
    }
}
