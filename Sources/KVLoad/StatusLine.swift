#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KVWorkload

/// The live status line: on a terminal one line refreshed in place every interval; when
/// piped, a plain line every `pipedEvery` intervals (quiet but periodic). Writes to stderr.
public final class StatusLine: @unchecked Sendable {
    public let isTerminal: Bool
    public let pipedEvery: Int
    let sink: (String) -> Void
    var printedInPlace = false

    public init(isTerminal: Bool = isatty(2) != 0, pipedEvery: Int = 10, sink: ((String) -> Void)? = nil) {
        self.isTerminal = isTerminal
        self.pipedEvery = max(pipedEvery, 1)
        self.sink = sink ?? writeToStandardError
    }

    /// Renders the status of interval `second` (0-based).
    public static func render(second: Int, interval: HistogramSet, intervalSeconds: Double, completed: UInt64,
                              total: Int64, elapsed: Double, timeLimit: Double, warmingUp: Bool) -> String {
        var count: UInt64 = 0
        var errors: UInt64 = 0
        var parts: [String] = []
        for kind in interval.kindsPresent {
            let n = OperationOutcome.allCases.reduce(0) { $0 + interval.count(kind, $1) }
            count += n
            errors += interval.count(kind, .error) + interval.count(kind, .timeout)
            let stats = interval.stats(kinds: [kind], measure: .service)
            parts.append("\(kind.ycsbName) p50=\(fixed(stats.p50Micros, 1)) p99=\(fixed(stats.p99Micros, 1))us")
        }
        var text = "\(String(repeating: " ", count: max(0, 4 - String(second + 1).count)))\(second + 1) s: "
        if warmingUp { text += "warming up; " }
        text += "\(fixed(Double(count) / intervalSeconds, 0)) ops/s; " + parts.joined(separator: ", ")
        text += "; errors \(errors); \(completed) ops"
        var fraction: Double?
        if total > 0 { fraction = Double(completed) / Double(total) }
        if timeLimit > 0 { fraction = max(fraction ?? 0, elapsed / timeLimit) }
        if let f = fraction, f > 0 {
            text += " (\(fixed(min(f, 1) * 100, 1))%, ETA \(fixed(max(elapsed / f - elapsed, 0), 0)) s)"
        }
        return text
    }

    /// Shows a rendered status for interval `second`.
    public func show(_ text: String, second: Int) {
        if isTerminal {
            sink("\r" + text + "\u{1B}[K")
            printedInPlace = true
        } else if (second + 1) % pipedEvery == 0 {
            sink(text + "\n")
        }
    }

    /// Ends the in-place line before the summary.
    public func finish() {
        if printedInPlace { sink("\n") }
        printedInPlace = false
    }
}

/// Writes text to file descriptor 2 (unbuffered).
public func writeToStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
