import NIOCore

/// Splits an inline request line into arguments the way redis-server does (`sdssplitargs`):
/// blanks separate arguments; `"..."` supports `\n \r \t \b \a \xHH` and `\<any>` escapes;
/// `'...'` supports `\'`; a closing quote must be followed by a blank or the end of the line.
enum InlineCommandSplitter {
    /// The command on `line` (without its CR/LF), or nil for a blank line.
    static func split(_ line: ByteBuffer, maxArguments: Int) throws(RESPProtocolError) -> RESPCommand? {
        let hasQuotes = line.withUnsafeReadableBytes { bytes in
            bytes.contains(UInt8(ascii: "\"")) || bytes.contains(UInt8(ascii: "'"))
        }
        let result: Result<RESPCommand?, RESPProtocolError>
        if hasQuotes {
            result = splitQuoted(line, maxArguments: maxArguments)
        } else {
            result = splitPlain(line, maxArguments: maxArguments)
        }
        return try result.get()
    }

    /// C `isspace`: what is skipped between arguments.
    @inline(__always)
    private static func isBlank(_ b: UInt8) -> Bool {
        b == 0x20 || (b >= 0x09 && b <= 0x0D)
    }

    /// What ends an unquoted argument.
    @inline(__always)
    private static func endsArgument(_ b: UInt8) -> Bool {
        b == 0x20 || b == asciiLF || b == asciiCR || b == 0x09 || b == 0
    }

    /// No quotes on the line: arguments are slices of the line itself.
    private static func splitPlain(_ line: ByteBuffer, maxArguments: Int) -> Result<RESPCommand?, RESPProtocolError> {
        var spans = ArgumentSpans()
        let tooMany: Bool = line.withUnsafeReadableBytes { bytes in
            var p = 0
            while true {
                while p < bytes.count && isBlank(bytes[p]) { p += 1 }
                if p == bytes.count { return false }
                let start = p
                while p < bytes.count && !endsArgument(bytes[p]) { p += 1 }
                if spans.count == maxArguments { return true }
                spans.append(ArgumentSpan(start: start, length: p - start), expectedCount: 0)
                if p < bytes.count { p += 1 }
            }
        }
        if tooMany { return .failure(.invalidMultibulkLength) }
        return .success(spans.count == 0 ? nil : RESPCommand(frame: line, spans: spans))
    }

    /// Quotes present: decode every argument into a fresh frame.
    private static func splitQuoted(_ line: ByteBuffer, maxArguments: Int) -> Result<RESPCommand?, RESPProtocolError> {
        var frame = ByteBufferAllocator().buffer(capacity: line.readableBytes)
        var spans = ArgumentSpans()
        let error: RESPProtocolError? = line.withUnsafeReadableBytes { b in
            let n = b.count
            var p = 0
            while true {
                while p < n && isBlank(b[p]) { p += 1 }
                if p == n { return nil }
                if spans.count == maxArguments { return .invalidMultibulkLength }
                let start = frame.writerIndex
                var inDouble = false
                var inSingle = false
                var done = false
                while !done {
                    if inDouble {
                        if p == n { return .unbalancedQuotes }
                        let c = b[p]
                        if c == UInt8(ascii: "\\") && p + 3 < n && b[p + 1] == UInt8(ascii: "x"),
                            let hi = hexValue(b[p + 2]), let lo = hexValue(b[p + 3])
                        {
                            frame.writeInteger(hi << 4 | lo)
                            p += 3
                        } else if c == UInt8(ascii: "\\") && p + 1 < n {
                            p += 1
                            frame.writeInteger(unescaped(b[p]))
                        } else if c == UInt8(ascii: "\"") {
                            if p + 1 < n && !isBlank(b[p + 1]) { return .unbalancedQuotes }
                            done = true
                        } else {
                            frame.writeInteger(c)
                        }
                    } else if inSingle {
                        if p == n { return .unbalancedQuotes }
                        let c = b[p]
                        if c == UInt8(ascii: "\\") && p + 1 < n && b[p + 1] == UInt8(ascii: "'") {
                            p += 1
                            frame.writeInteger(UInt8(ascii: "'"))
                        } else if c == UInt8(ascii: "'") {
                            if p + 1 < n && !isBlank(b[p + 1]) { return .unbalancedQuotes }
                            done = true
                        } else {
                            frame.writeInteger(c)
                        }
                    } else {
                        if p == n { break }
                        let c = b[p]
                        if endsArgument(c) {
                            done = true
                        } else if c == UInt8(ascii: "\"") {
                            inDouble = true
                        } else if c == UInt8(ascii: "'") {
                            inSingle = true
                        } else {
                            frame.writeInteger(c)
                        }
                    }
                    if p < n { p += 1 }
                }
                spans.append(ArgumentSpan(start: start, length: frame.writerIndex - start), expectedCount: 0)
            }
        }
        if let error { return .failure(error) }
        return .success(spans.count == 0 ? nil : RESPCommand(frame: frame, spans: spans))
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func unescaped(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "n"): return asciiLF
        case UInt8(ascii: "r"): return asciiCR
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "a"): return 0x07
        default: return c
        }
    }
}
