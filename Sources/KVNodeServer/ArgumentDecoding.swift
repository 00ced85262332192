import NIOCore

/// Reads command arguments the way Redis does, without going through `String`.
enum ArgumentDecoding {
    /// Parses a strict base-10 signed 64-bit integer (no spaces, no '+', no leading zeros), like Redis's
    /// string2ll. Returns nil on anything else, including overflow.
    static func int64(_ buffer: ByteBuffer) -> Int64? {
        buffer.withUnsafeReadableBytes { bytes -> Int64? in
            let n = bytes.count
            guard n > 0, n <= 20 else { return nil }
            var i = 0
            var negative = false
            if bytes[0] == UInt8(ascii: "-") {
                negative = true
                i = 1
                guard n > 1 else { return nil }
            }
            if bytes[i] == UInt8(ascii: "0") { return n == i + 1 && !negative ? 0 : nil }
            var value: UInt64 = 0
            while i < n {
                let d = bytes[i] &- UInt8(ascii: "0")
                guard d <= 9 else { return nil }
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(d))
                guard !o1, !o2 else { return nil }
                value = a
                i += 1
            }
            if negative {
                guard value <= UInt64(Int64.max) + 1 else { return nil }
                return value == UInt64(Int64.max) + 1 ? Int64.min : -Int64(value)
            }
            guard value <= UInt64(Int64.max) else { return nil }
            return Int64(value)
        }
    }

    /// Case-insensitive ASCII comparison with a lower- or upper-case literal.
    static func equalsIgnoringCase(_ buffer: ByteBuffer, _ literal: StaticString) -> Bool {
        guard buffer.readableBytes == literal.utf8CodeUnitCount else { return false }
        return buffer.withUnsafeReadableBytes { bytes in
            let lit = literal.utf8Start
            for i in 0..<bytes.count {
                var a = bytes[i], b = lit[i]
                if a >= 97 && a <= 122 { a -= 32 }
                if b >= 97 && b <= 122 { b -= 32 }
                if a != b { return false }
            }
            return true
        }
    }

    /// The argument as text (for rare, non-hot-path uses: names, patterns, passwords in logs never).
    static func string(_ buffer: ByteBuffer) -> String {
        String(buffer: buffer)
    }

    /// Glob matching as Redis's CONFIG GET and COMMAND use it: `*`, `?`, `[...]` and `\` escapes.
    static func globMatches(pattern: [UInt8], _ text: [UInt8], ignoreCase: Bool = true) -> Bool {
        func lower(_ c: UInt8) -> UInt8 { ignoreCase && c >= 65 && c <= 90 ? c + 32 : c }
        func match(_ p: Int, _ t: Int) -> Bool {
            var p = p, t = t
            while p < pattern.count {
                switch pattern[p] {
                case UInt8(ascii: "*"):
                    while p + 1 < pattern.count && pattern[p + 1] == UInt8(ascii: "*") { p += 1 }
                    if p + 1 == pattern.count { return true }
                    var k = t
                    while k <= text.count {
                        if match(p + 1, k) { return true }
                        k += 1
                    }
                    return false
                case UInt8(ascii: "?"):
                    guard t < text.count else { return false }
                    t += 1
                case UInt8(ascii: "["):
                    guard t < text.count else { return false }
                    var q = p + 1
                    let negate = q < pattern.count && pattern[q] == UInt8(ascii: "^")
                    if negate { q += 1 }
                    var matched = false
                    while q < pattern.count && pattern[q] != UInt8(ascii: "]") {
                        if q + 2 < pattern.count && pattern[q + 1] == UInt8(ascii: "-") && pattern[q + 2] != UInt8(ascii: "]") {
                            let lo = lower(pattern[q]), hi = lower(pattern[q + 2]), c = lower(text[t])
                            if lo <= c && c <= hi { matched = true }
                            q += 3
                        } else {
                            if lower(pattern[q]) == lower(text[t]) { matched = true }
                            q += 1
                        }
                    }
                    guard matched != negate else { return false }
                    p = q
                    t += 1
                case UInt8(ascii: "\\") where p + 1 < pattern.count:
                    p += 1
                    guard t < text.count, lower(pattern[p]) == lower(text[t]) else { return false }
                    t += 1
                default:
                    guard t < text.count, lower(pattern[p]) == lower(text[t]) else { return false }
                    t += 1
                }
                p += 1
            }
            return t == text.count
        }
        return match(0, 0)
    }
}
