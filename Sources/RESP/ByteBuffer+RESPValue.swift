import NIOCore

extension ByteBuffer {
    /// Writes `value` in `version`'s encoding. Each case is written as itself when the version has
    /// that type (so `.bulkString(nil)` stays `$-1` and `.array(nil)` stays `*-1` even under
    /// RESP3); RESP3-only types fall back to their RESP2 equivalents under `.v2` like Redis:
    /// `.null` → `$-1`, double/big number/verbatim → bulk string, boolean → integer,
    /// map → flat array, set/push → array.
    public mutating func writeRESPValue(_ value: RESPValue, version: RESPVersion) {
        switch value {
        case .simpleString(let bytes):
            writeInteger(UInt8(ascii: "+"))
            writeRESPLineSanitized(bytes.readableBytesView)
        case .error(let bytes):
            writeInteger(UInt8(ascii: "-"))
            writeRESPLineSanitized(bytes.readableBytesView)
        case .integer(let v):
            writeRESPInteger(v)
        case .bulkString(let bytes):
            if let bytes { writeRESPBulkString(bytes) } else { writeStaticString("$-1\r\n") }
        case .array(let elements):
            guard let elements else {
                writeStaticString("*-1\r\n")
                return
            }
            writeRESPArrayHeader(elements.count)
            for element in elements { writeRESPValue(element, version: version) }
        case .null:
            writeRESPNull(version)
        case .double(let d):
            writeRESPDouble(d, version)
        case .boolean(let b):
            writeRESPBoolean(b, version)
        case .bigNumber(let digits):
            writeRESPBigNumber(digits, version)
        case .verbatimString(let format, let text):
            writeRESPVerbatim(text, format: format, version)
        case .map(let entries):
            writeRESPMapHeader(entries.count, version)
            for entry in entries {
                writeRESPValue(entry.key, version: version)
                writeRESPValue(entry.value, version: version)
            }
        case .set(let elements):
            writeRESPSetHeader(elements.count, version)
            for element in elements { writeRESPValue(element, version: version) }
        case .push(let elements):
            writeRESPPushHeader(elements.count, version)
            for element in elements { writeRESPValue(element, version: version) }
        }
    }
}
