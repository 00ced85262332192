import NIOCore

/// Reply writers: append RESP straight to an outbound buffer, without intermediate allocation.
extension ByteBuffer {
    /// `+OK\r\n` from a trusted literal (must not contain CR or LF).
    @inlinable
    public mutating func writeRESPSimpleString(_ s: StaticString) {
        writeInteger(UInt8(ascii: "+"))
        writeStaticString(s)
        writeRESPCRLF()
    }

    /// `+<bytes>\r\n`; CR and LF are replaced by spaces so the reply cannot break framing.
    @inlinable
    public mutating func writeRESPSimpleString(_ bytes: some Collection<UInt8>) {
        writeInteger(UInt8(ascii: "+"))
        writeRESPLineSanitized(bytes)
    }

    /// `-<message>\r\n`, e.g. given `"ERR unknown command"`. CR and LF become spaces (as Redis does).
    @inlinable
    public mutating func writeRESPError(_ message: String) {
        writeInteger(UInt8(ascii: "-"))
        writeRESPLineSanitized(message.utf8)
    }

    /// The reply redis-server sends before closing on a protocol error:
    /// `-ERR Protocol error: <detail>\r\n`.
    public mutating func writeRESPError(_ error: RESPProtocolError) {
        writeRESPError("ERR " + error.message)
    }

    /// `:<v>\r\n`.
    @inlinable
    public mutating func writeRESPInteger(_ v: Int64) {
        writeRESPDecimalLine(prefix: UInt8(ascii: ":"), v)
    }

    /// `:<v>\r\n`.
    @inlinable
    public mutating func writeRESPInteger(_ v: Int) {
        writeRESPDecimalLine(prefix: UInt8(ascii: ":"), Int64(v))
    }

    /// `$<len>\r\n<bytes>\r\n`.
    @inlinable
    public mutating func writeRESPBulkString(_ bytes: UnsafeRawBufferPointer) {
        // One capacity check and one copy for header, payload and trailer (a GET reply's whole cost here).
        let total = RESPEncoding.bulkStringLength(bytes.count)
        writeWithUnsafeMutableBytes(minimumWritableBytes: total) { out in
            RESPEncoding.storeBulkString(bytes, at: out.baseAddress!)
        }
    }

    /// `$<len>\r\n<readable bytes of buffer>\r\n` (does not move `buffer`'s reader index).
    @inlinable
    public mutating func writeRESPBulkString(_ buffer: ByteBuffer) {
        writeRESPDecimalLine(prefix: UInt8(ascii: "$"), Int64(buffer.readableBytes))
        writeImmutableBuffer(buffer)
        writeRESPCRLF()
    }

    /// `$<len>\r\n<UTF-8 of s>\r\n`.
    @inlinable
    public mutating func writeRESPBulkString(_ s: String) {
        writeRESPDecimalLine(prefix: UInt8(ascii: "$"), Int64(s.utf8.count))
        writeString(s)
        writeRESPCRLF()
    }

    /// The null reply: `$-1\r\n` under RESP2, `_\r\n` under RESP3.
    @inlinable
    public mutating func writeRESPNull(_ version: RESPVersion) {
        switch version {
        case .v2: writeStaticString("$-1\r\n")
        case .v3: writeStaticString("_\r\n")
        }
    }

    /// The null array reply: `*-1\r\n` under RESP2, `_\r\n` under RESP3.
    @inlinable
    public mutating func writeRESPNullArray(_ version: RESPVersion) {
        switch version {
        case .v2: writeStaticString("*-1\r\n")
        case .v3: writeStaticString("_\r\n")
        }
    }

    /// `*<count>\r\n`; follow it with `count` values.
    @inlinable
    public mutating func writeRESPArrayHeader(_ count: Int) {
        writeRESPDecimalLine(prefix: UInt8(ascii: "*"), Int64(count))
    }

    /// `%<count>\r\n` under RESP3; under RESP2 an array of `2 * count` (keys and values alternate).
    @inlinable
    public mutating func writeRESPMapHeader(_ count: Int, _ version: RESPVersion) {
        switch version {
        case .v2: writeRESPDecimalLine(prefix: UInt8(ascii: "*"), Int64(count) * 2)
        case .v3: writeRESPDecimalLine(prefix: UInt8(ascii: "%"), Int64(count))
        }
    }

    /// `~<count>\r\n` under RESP3; an array header under RESP2.
    @inlinable
    public mutating func writeRESPSetHeader(_ count: Int, _ version: RESPVersion) {
        writeRESPDecimalLine(prefix: version == .v3 ? UInt8(ascii: "~") : UInt8(ascii: "*"), Int64(count))
    }

    /// `><count>\r\n` under RESP3; an array header under RESP2 (pub/sub messages).
    @inlinable
    public mutating func writeRESPPushHeader(_ count: Int, _ version: RESPVersion) {
        writeRESPDecimalLine(prefix: version == .v3 ? UInt8(ascii: ">") : UInt8(ascii: "*"), Int64(count))
    }

    /// `,<d>\r\n` under RESP3 (`inf`, `-inf`, `nan` for the special values); a bulk string of the
    /// same text under RESP2. Uses the shortest text that reads back as the same `Double`.
    @inlinable
    public mutating func writeRESPDouble(_ d: Double, _ version: RESPVersion) {
        var text = d.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        switch version {
        case .v2: writeRESPBulkString(text)
        case .v3:
            writeInteger(UInt8(ascii: ","))
            writeString(text)
            writeRESPCRLF()
        }
    }

    /// `#t\r\n` / `#f\r\n` under RESP3; `:1\r\n` / `:0\r\n` under RESP2.
    @inlinable
    public mutating func writeRESPBoolean(_ b: Bool, _ version: RESPVersion) {
        switch version {
        case .v2: writeStaticString(b ? ":1\r\n" : ":0\r\n")
        case .v3: writeStaticString(b ? "#t\r\n" : "#f\r\n")
        }
    }

    /// `=<len>\r\n<fmt>:<text>\r\n` under RESP3; a bulk string of `text` under RESP2.
    /// `format` must be three ASCII bytes (`txt`, `mkd`); it is cut or space-padded to three.
    @inlinable
    public mutating func writeRESPVerbatim(_ text: ByteBuffer, format: String = "txt", _ version: RESPVersion) {
        switch version {
        case .v2:
            writeRESPBulkString(text)
        case .v3:
            writeRESPDecimalLine(prefix: UInt8(ascii: "="), Int64(text.readableBytes + 4))
            var written = 0
            for byte in format.utf8.prefix(3) {
                writeInteger(byte)
                written += 1
            }
            while written < 3 {
                writeInteger(UInt8(ascii: " "))
                written += 1
            }
            writeInteger(UInt8(ascii: ":"))
            writeImmutableBuffer(text)
            writeRESPCRLF()
        }
    }

    /// `=<len>\r\n<fmt>:<text>\r\n` under RESP3; a bulk string under RESP2.
    @inlinable
    public mutating func writeRESPVerbatim(_ text: String, format: String = "txt", _ version: RESPVersion) {
        writeRESPVerbatim(ByteBuffer(string: text), format: format, version)
    }

    /// `(<digits>\r\n` under RESP3; a bulk string of the digits under RESP2.
    @inlinable
    public mutating func writeRESPBigNumber(_ digits: ByteBuffer, _ version: RESPVersion) {
        switch version {
        case .v2: writeRESPBulkString(digits)
        case .v3:
            writeInteger(UInt8(ascii: "("))
            writeImmutableBuffer(digits)
            writeRESPCRLF()
        }
    }

    // MARK: - Building blocks

    @inlinable
    mutating func writeRESPCRLF() {
        writeInteger(UInt16(0x0D0A), endianness: .big)
    }

    /// Writes `bytes` with CR/LF replaced by spaces, then CRLF.
    @inlinable
    mutating func writeRESPLineSanitized(_ bytes: some Collection<UInt8>) {
        if !bytes.contains(where: { $0 == asciiCR || $0 == asciiLF }) {
            writeBytes(bytes)
        } else {
            for byte in bytes {
                writeInteger(byte == asciiCR || byte == asciiLF ? UInt8(ascii: " ") : byte)
            }
        }
        writeRESPCRLF()
    }

    /// Writes `prefix` (if any), the decimal digits of `value` and CRLF in one bounds check.
    @inlinable
    mutating func writeRESPDecimalLine(prefix: UInt8?, _ value: Int64) {
        let magnitude = value.magnitude
        let digits = RESPEncoding.decimalDigits(magnitude)
        let head = prefix == nil ? 0 : 1
        let sign = value < 0 ? 1 : 0
        let total = head + sign + digits + 2
        writeWithUnsafeMutableBytes(minimumWritableBytes: total) { out in
            if let prefix { out[0] = prefix }
            if sign == 1 { out[head] = UInt8(ascii: "-") }
            RESPEncoding.storeDigits(of: magnitude, count: digits, at: out.baseAddress! + head + sign)
            out[total - 2] = asciiCR
            out[total - 1] = asciiLF
            return total
        }
    }
}
