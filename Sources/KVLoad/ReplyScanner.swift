/// Fast path for the replies a load generator sees most (`+OK`, `-ERR …`, `:n`, `$n` bulk
/// strings, nulls): classifies one reply straight from the bytes, without building a
/// `RESPValue`. Aggregates and anything unusual go to `RESPValueParser`.
enum ReplyScanner {
    enum Result: Equatable {
        case reply(OperationOutcome, consumed: Int)
        case incomplete
        /// Not a simple reply: use the full parser.
        case complex
    }

    @inline(__always)
    static func scan(_ bytes: UnsafeRawBufferPointer) -> Result {
        guard let first = bytes.first else { return .incomplete }
        // `+OK\r\n`, every write's reply: one 32-bit compare and one byte, no scan for the line end.
        if bytes.count >= 5, bytes.baseAddress!.loadUnaligned(as: UInt32.self) == okHead,
           bytes.baseAddress!.load(fromByteOffset: 4, as: UInt8.self) == UInt8(ascii: "\n") {
            return .reply(.ok, consumed: 5)
        }
        switch first {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            guard let end = lineEnd(bytes, from: 1) else { return .incomplete }
            let outcome: OperationOutcome = first == UInt8(ascii: "+") ? .ok : first == UInt8(ascii: "-") ? .error : .notFound
            return .reply(outcome, consumed: end)
        case UInt8(ascii: ":"), UInt8(ascii: "$"):
            // Plain pointer loads with the bounds tested once per byte, wrapping arithmetic (the value stops
            // growing at 2^40, far from overflow): this runs for every reply of a GET-heavy run.
            let count = bytes.count
            let p = bytes.baseAddress!
            var i = 1
            let negative = count > 1 && p.load(fromByteOffset: 1, as: UInt8.self) == UInt8(ascii: "-")
            if negative { i = 2 }
            var value = 0
            while i < count, value < 1 << 40 {
                let digit = p.load(fromByteOffset: i, as: UInt8.self) &- UInt8(ascii: "0")
                if digit > 9 { break }
                value = value &* 10 &+ Int(digit)
                i &+= 1
            }
            guard i &+ 1 < count else { return .incomplete }
            guard p.loadUnaligned(fromByteOffset: i, as: UInt16.self) == crlf else { return .complex }
            let header = i &+ 2
            if first == UInt8(ascii: ":") { return .reply(value == 0 ? .notFound : .ok, consumed: header) }
            if negative { return .reply(.notFound, consumed: header) }
            let total = header &+ value &+ 2
            guard count >= total else { return .incomplete }
            return .reply(.ok, consumed: total)
        default:
            return .complex
        }
    }

    /// `+OK\r` as one little-endian 32-bit load.
    static var okHead: UInt32 { 0x0D4B_4F2B }

    /// `\r\n` as one little-endian 16-bit load.
    static var crlf: UInt16 { 0x0A0D }

    /// Offset just past the first CRLF at or after `from`.
    @inline(__always)
    static func lineEnd(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        var i = from
        while i + 1 < bytes.count {
            if bytes[i] == UInt8(ascii: "\r"), bytes[i + 1] == UInt8(ascii: "\n") { return i + 2 }
            i += 1
        }
        return nil
    }
}
