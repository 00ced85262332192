import NIOCore

/// Incremental parser for replies (the client side): every RESP2 and RESP3 type, with the same
/// limits as the command parser plus a bound on aggregate nesting.
///
/// A value is consumed from the buffer only once it is complete; until then the parser remembers
/// the least number of readable bytes that could complete it (so waiting for a large bulk string
/// does not re-parse on every read). Between calls the caller may only append to the buffer or
/// discard already-read bytes. After a protocol error every later call throws the same error.
/// Aggregates are decoded recursively, one stack frame per level, bounded by `maxNestingDepth`.
public struct RESPValueParser: Sendable {
    /// What the peer may send; may be changed between calls.
    public var limits: RESPLimits
    private var minimumReadable = 1
    private var failure: RESPProtocolError?

    /// A parser at the start of a stream.
    public init(limits: RESPLimits = .init()) {
        self.limits = limits
    }

    /// Returns the next complete value, nil if more bytes are needed; throws on malformed input.
    public mutating func next(from buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPValue? {
        if let failure { throw failure }
        guard buffer.readableBytes >= minimumReadable else { return nil }
        let source = buffer
        let limits = self.limits
        let outcome = source.withUnsafeReadableBytes { bytes in
            ValueDecoder(bytes: bytes, source: source, limits: limits).decode(at: 0, depth: 0)
        }
        switch outcome {
        case .value(let value, let end):
            buffer.moveReaderIndex(forwardBy: end)
            minimumReadable = 1
            return value
        case .incomplete(let needed):
            minimumReadable = needed
            return nil
        case .failure(let error):
            failure = error
            throw error
        }
    }
}

/// One decoding pass over the readable bytes; offsets are relative to the reader index.
private struct ValueDecoder {
    let bytes: UnsafeRawBufferPointer
    let source: ByteBuffer
    let limits: RESPLimits

    enum Outcome {
        /// A value and the offset just past it.
        case value(RESPValue, Int)
        /// Not complete; at least this many readable bytes are needed.
        case incomplete(Int)
        case failure(RESPProtocolError)
    }

    private func slice(_ start: Int, _ length: Int) -> ByteBuffer {
        source.getSlice(at: source.readerIndex + start, length: length)!
    }

    /// Where a header or simple line ends: the offset of its CR, or an outcome to return.
    private func line(startingAt start: Int) -> Result<Int, OutcomeBox> {
        switch scanLine(bytes, start: start, searchFrom: start, maxLength: limits.lineLengthLimit) {
        case .found(let cr): return .success(cr)
        case .incomplete: return .failure(OutcomeBox(.incomplete(bytes.count + 1)))
        case .tooLong: return .failure(OutcomeBox(.failure(.tooBigSimpleLine)))
        case .badTerminator: return .failure(OutcomeBox(.failure(.missingCRLF)))
        }
    }

    /// Wraps an outcome so it can travel as a `Result` failure.
    struct OutcomeBox: Error {
        let outcome: Outcome
        init(_ outcome: Outcome) { self.outcome = outcome }
    }

    func decode(at start: Int, depth: Int) -> Outcome {
        var offset = start
        while true {
            guard offset < bytes.count else { return .incomplete(offset + 1) }
            let type = bytes[offset]
            guard Self.isKnownType(type) else { return .failure(.unknownType(type)) }
            let cr: Int
            switch line(startingAt: offset + 1) {
            case .success(let found): cr = found
            case .failure(let box): return box.outcome
            }
            let contentStart = offset + 1
            let next = cr + 2
            switch type {
            case UInt8(ascii: "+"):
                return .value(.simpleString(slice(contentStart, cr - contentStart)), next)
            case UInt8(ascii: "-"):
                return .value(.error(slice(contentStart, cr - contentStart)), next)
            case UInt8(ascii: ":"):
                guard let v = parseDecimal(bytes, from: contentStart, to: cr) else { return .failure(.invalid("integer")) }
                return .value(.integer(v), next)
            case UInt8(ascii: "_"):
                guard cr == contentStart else { return .failure(.invalid("null")) }
                return .value(.null, next)
            case UInt8(ascii: "#"):
                guard cr == contentStart + 1 else { return .failure(.invalid("boolean")) }
                switch bytes[contentStart] {
                case UInt8(ascii: "t"): return .value(.boolean(true), next)
                case UInt8(ascii: "f"): return .value(.boolean(false), next)
                default: return .failure(.invalid("boolean"))
                }
            case UInt8(ascii: ","):
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[contentStart..<cr]), as: UTF8.self)
                guard let d = Double(text) else { return .failure(.invalid("double")) }
                return .value(.double(d), next)
            case UInt8(ascii: "("):
                var i = contentStart
                if i < cr && bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard i < cr else { return .failure(.invalid("big number")) }
                while i < cr {
                    guard bytes[i] &- UInt8(ascii: "0") < 10 else { return .failure(.invalid("big number")) }
                    i += 1
                }
                return .value(.bigNumber(slice(contentStart, cr - contentStart)), next)
            case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
                return decodeBlob(type: type, contentStart: contentStart, cr: cr)
            case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
                guard let count = aggregateCount(type: type, contentStart: contentStart, cr: cr) else {
                    if cr == contentStart + 1 && bytes[contentStart] == UInt8(ascii: "?") {
                        return .failure(.unsupportedStreamed)
                    }
                    return .failure(.invalidMultibulkLength)
                }
                if count < 0 { return .value(.array(nil), next) }
                guard depth < limits.nestingDepthLimit else { return .failure(.tooDeepNesting) }
                let isPairs = type == UInt8(ascii: "%") || type == UInt8(ascii: "|")
                let elementCount = isPairs ? count * 2 : count
                var elements: [RESPValue] = []
                elements.reserveCapacity(min(elementCount, ArgumentSpans.maxReservation))
                var position = next
                for _ in 0..<elementCount {
                    switch decode(at: position, depth: depth + 1) {
                    case .value(let element, let end):
                        elements.append(element)
                        position = end
                    case let other:
                        return other
                    }
                }
                switch type {
                case UInt8(ascii: "|"):
                    offset = position  // an attribute: skip it, the real value follows
                    continue
                case UInt8(ascii: "~"):
                    return .value(.set(elements), position)
                case UInt8(ascii: ">"):
                    return .value(.push(elements), position)
                case UInt8(ascii: "%"):
                    var entries: [RESPMapEntry] = []
                    entries.reserveCapacity(count)
                    var i = 0
                    while i < elements.count {
                        entries.append(RESPMapEntry(elements[i], elements[i + 1]))
                        i += 2
                    }
                    return .value(.map(entries), position)
                default:
                    return .value(.array(elements), position)
                }
            default:
                return .failure(.unknownType(type))
            }
        }
    }

    private static func isKnownType(_ type: UInt8) -> Bool {
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "_"), UInt8(ascii: "#"),
            UInt8(ascii: ","), UInt8(ascii: "("), UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="),
            UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            return true
        default:
            return false
        }
    }

    /// The element count of an aggregate header: -1 only for the RESP2 null array, nil when invalid.
    private func aggregateCount(type: UInt8, contentStart: Int, cr: Int) -> Int? {
        guard let count = parseDecimal(bytes, from: contentStart, to: cr) else { return nil }
        if count == -1 && type == UInt8(ascii: "*") { return -1 }
        guard count >= 0, count <= limits.arrayLengthLimit else { return nil }
        return Int(count)
    }

    /// `$` bulk string, `!` blob error, `=` verbatim string.
    private func decodeBlob(type: UInt8, contentStart: Int, cr: Int) -> Outcome {
        guard let length = parseDecimal(bytes, from: contentStart, to: cr) else {
            if cr == contentStart + 1 && bytes[contentStart] == UInt8(ascii: "?") { return .failure(.unsupportedStreamed) }
            return .failure(.invalidBulkLength)
        }
        if length == -1 && type == UInt8(ascii: "$") { return .value(.bulkString(nil), cr + 2) }
        guard length >= 0, length <= limits.bulkLengthLimit else { return .failure(.invalidBulkLength) }
        let payload = cr + 2
        let end = payload + Int(length)
        guard end + 2 <= bytes.count else {
            if end < bytes.count && bytes[end] != asciiCR { return .failure(.missingCRLF) }
            return .incomplete(end + 2)
        }
        guard bytes[end] == asciiCR, bytes[end + 1] == asciiLF else { return .failure(.missingCRLF) }
        switch type {
        case UInt8(ascii: "$"):
            return .value(.bulkString(slice(payload, Int(length))), end + 2)
        case UInt8(ascii: "!"):
            return .value(.error(slice(payload, Int(length))), end + 2)
        default:
            guard length >= 4, bytes[payload + 3] == UInt8(ascii: ":") else { return .failure(.invalid("verbatim string")) }
            let format = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[payload..<payload + 3]), as: UTF8.self)
            return .value(.verbatimString(format: format, slice(payload + 4, Int(length) - 4)), end + 2)
        }
    }
}
