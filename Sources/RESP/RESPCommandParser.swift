import NIOCore

/// Incremental parser for client commands, as redis-server reads them: multibulk
/// (`*N\r\n$len\r\narg\r\n...`) and inline (`SET k "v w"\r\n`) requests.
///
/// Feed it the connection's cumulation buffer whenever bytes arrive; it consumes exactly the
/// bytes of each complete command and leaves partial ones in place (remembering how far it got,
/// so a slowly arriving command is not re-scanned from the start). Between calls the caller may
/// only append to the buffer or discard already-read bytes (what `ByteToMessageDecoder` does).
/// After a protocol error every later call throws the same error: close the connection.
public struct RESPCommandParser: Sendable {
    /// May be changed between calls, e.g. relaxed once a client has authenticated.
    public var limits: RESPLimits

    /// Arguments announced by the current multibulk header, or -1 between commands.
    private var expectedCount = -1
    /// Offset (from the reader index) of the next unparsed byte of the current command.
    private var offset = 0
    /// Payload length of the bulk starting at `offset` once its header is parsed, else -1.
    private var bulkLength = -1
    /// Where to resume the search for the end of the current line.
    private var searchFrom = 0
    private var spans = ArgumentSpans()
    private var failure: RESPProtocolError?

    /// A parser at the start of a connection.
    public init(limits: RESPLimits = .init()) {
        self.limits = limits
    }

    /// Returns the next complete command, nil if more bytes are needed; throws on malformed input.
    public mutating func next(from buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPCommand? {
        if let failure { throw failure }
        while true {
            let step = buffer.withUnsafeReadableBytes { self.step($0) }
            switch step {
            case .needMoreBytes:
                return nil
            case .skip(let length):
                buffer.moveReaderIndex(forwardBy: length)
                reset()
            case .multibulk(let length):
                let frame = buffer.readSlice(length: length)!
                let command = RESPCommand(frame: frame, spans: spans)
                reset()
                return command
            case .inline(let contentLength, let lineLength):
                let line = buffer.getSlice(at: buffer.readerIndex, length: contentLength)!
                buffer.moveReaderIndex(forwardBy: lineLength)
                reset()
                let command: RESPCommand?
                do {
                    command = try InlineCommandSplitter.split(line, maxArguments: limits.arrayLengthLimit)
                } catch {
                    return try fail(error)
                }
                if let command { return command }
            case .failure(let error):
                return try fail(error)
            }
        }
    }

    private mutating func fail(_ error: RESPProtocolError) throws(RESPProtocolError) -> RESPCommand? {
        failure = error
        throw error
    }

    private mutating func reset() {
        expectedCount = -1
        offset = 0
        bulkLength = -1
        searchFrom = 0
        spans = ArgumentSpans()
    }

    private enum Step {
        case needMoreBytes
        /// An empty or negative multibulk (`*0`, `*-1`): drop this many bytes.
        case skip(Int)
        /// A complete multibulk command of this many bytes; `spans` describes it.
        case multibulk(Int)
        /// An inline line: its content length (without CR/LF) and its length with the terminator.
        case inline(contentLength: Int, lineLength: Int)
        case failure(RESPProtocolError)
    }

    private mutating func step(_ bytes: UnsafeRawBufferPointer) -> Step {
        if expectedCount < 0 {
            guard bytes.count > 0 else { return .needMoreBytes }
            guard bytes[0] == UInt8(ascii: "*") else { return scanInlineLine(bytes) }
            switch scanLine(bytes, start: 1, searchFrom: searchFrom, maxLength: limits.lineLengthLimit) {
            case .incomplete(let resumeAt):
                searchFrom = resumeAt
                return .needMoreBytes
            case .tooLong:
                return .failure(.tooBigMultibulkCount)
            case .badTerminator:
                return .failure(.invalidMultibulkLength)
            case .found(let cr):
                guard let count = parseDecimal(bytes, from: 1, to: cr), count <= limits.arrayLengthLimit else {
                    return .failure(.invalidMultibulkLength)
                }
                if count <= 0 { return .skip(cr + 2) }
                expectedCount = Int(count)
                offset = cr + 2
                searchFrom = offset
            }
        }
        while spans.count < expectedCount {
            if bulkLength < 0 {
                guard offset < bytes.count else { return .needMoreBytes }
                let marker = bytes[offset]
                guard marker == UInt8(ascii: "$") else { return .failure(.expected(UInt8(ascii: "$"), got: marker)) }
                switch scanLine(bytes, start: offset + 1, searchFrom: searchFrom, maxLength: limits.lineLengthLimit) {
                case .incomplete(let resumeAt):
                    searchFrom = resumeAt
                    return .needMoreBytes
                case .tooLong:
                    return .failure(.tooBigBulkCount)
                case .badTerminator:
                    return .failure(.invalidBulkLength)
                case .found(let cr):
                    guard let length = parseDecimal(bytes, from: offset + 1, to: cr),
                        length >= 0, length <= limits.bulkLengthLimit
                    else { return .failure(.invalidBulkLength) }
                    bulkLength = Int(length)
                    offset = cr + 2
                }
            }
            let end = offset + bulkLength
            guard end + 2 <= bytes.count else {
                if end < bytes.count && bytes[end] != asciiCR { return .failure(.missingCRLF) }
                return .needMoreBytes
            }
            guard bytes[end] == asciiCR, bytes[end + 1] == asciiLF else { return .failure(.missingCRLF) }
            spans.append(ArgumentSpan(start: offset, length: bulkLength), expectedCount: expectedCount)
            offset = end + 2
            searchFrom = offset
            bulkLength = -1
        }
        return .multibulk(offset)
    }

    /// Finds the `\n` ending an inline request (an optional `\r` before it is not content).
    private mutating func scanInlineLine(_ bytes: UnsafeRawBufferPointer) -> Step {
        // Content may be `limit` bytes, followed by an optional CR and the LF.
        let limit = limits.lineLengthLimit
        let end = min(bytes.count, limit + 2)
        var i = searchFrom
        while i < end {
            if bytes[i] == asciiLF {
                let contentLength = (i > 0 && bytes[i - 1] == asciiCR) ? i - 1 : i
                guard contentLength <= limit else { return .failure(.tooBigInlineRequest) }
                return .inline(contentLength: contentLength, lineLength: i + 1)
            }
            i += 1
        }
        if bytes.count >= limit + 2 { return .failure(.tooBigInlineRequest) }
        searchFrom = i
        return .needMoreBytes
    }
}
