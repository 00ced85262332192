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
        switch first {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            guard let end = lineEnd(bytes, from: 1) else { return .incomplete }
            let outcome: OperationOutcome = first == UInt8(ascii: "+") ? .ok : first == UInt8(ascii: "-") ? .error : .notFound
            return .reply(outcome, consumed: end)
        case UInt8(ascii: ":"), UInt8(ascii: "$"):
            var i = 1
            var negative = false
            var value = 0
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") {
                negative = true
                i += 1
            }
            while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9"), value < 1 << 40 {
                value = value * 10 + Int(bytes[i] &- UInt8(ascii: "0"))
                i += 1
            }
            guard i + 1 < bytes.count else { return .incomplete }
            guard bytes[i] == UInt8(ascii: "\r"), bytes[i + 1] == UInt8(ascii: "\n") else { return .complex }
            let header = i + 2
            if first == UInt8(ascii: ":") { return .reply(value == 0 ? .notFound : .ok, consumed: header) }
            if negative { return .reply(.notFound, consumed: header) }
            let total = header + value + 2
            guard bytes.count >= total else { return .incomplete }
            return .reply(.ok, consumed: total)
        default:
            return .complex
        }
    }

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
