import Foundation
import KVWorkload

/// HdrHistogram interval logs (format 1.3): header comments, a legend, then one line per
/// interval `[Tag=T,]start,length,max,base64(compressed V2 histogram)`; timestamps are seconds
/// from the run start, max is in milliseconds (values are ns, as HdrHistogram's default
/// 10⁶ unit ratio expects). Per operation the untagged line is the service time over all
/// outcomes (what tools without tag support plot); tagged lines `service.ok`,
/// `intended.error`, … carry the per-outcome detail that `kvbench merge` reads back.
public enum IntervalLog {
    /// One decoded line.
    public struct Entry: Sendable {
        public var tag: String?
        public var start: Double
        public var length: Double
        public var histogram: LatencyHistogram
    }

    public static let legend = "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""

    /// The header for a log whose timestamps count from `startTime` (seconds since the epoch).
    public static func header(startTime: Double) -> String {
        let date = Date(timeIntervalSince1970: startTime)
        return "#[Histogram log format version 1.3]\n"
            + "#[StartTime: \(fixed(startTime, 3)) (seconds since epoch), \(date)]\n"
            + "#[BaseTime: \(fixed(startTime, 3)) (seconds since epoch)]\n"
            + legend + "\n"
    }

    /// One line for histogram `h`.
    public static func line(tag: String?, start: Double, length: Double, histogram h: LatencyHistogram) -> String {
        let encoded = Data(HistogramEncoding.encodeCompressed(h)).base64EncodedString()
        let prefix = tag.map { "Tag=\($0)," } ?? ""
        return prefix + "\(fixed(start, 3)),\(fixed(length, 3)),\(fixed(Double(h.max) / 1e6, 3)),\(encoded)"
    }

    /// Lines for one operation's interval: untagged service time, then each non-empty slot tagged.
    static func lines(for set: HistogramSet, kind: OperationKind, start: Double, length: Double) -> [String] {
        var out: [String] = []
        if let all = set.merged(kinds: [kind], measure: .service) { out.append(line(tag: nil, start: start, length: length, histogram: all)) }
        for measure in LatencyMeasure.allCases {
            for outcome in OperationOutcome.allCases {
                guard let h = set[HistogramSlot(kind: kind, outcome: outcome, measure: measure)], h.totalCount > 0 else { continue }
                out.append(line(tag: tag(measure, outcome), start: start, length: length, histogram: h))
            }
        }
        return out
    }

    public static func tag(_ measure: LatencyMeasure, _ outcome: OperationOutcome) -> String {
        "\(measure == .service ? "service" : "intended").\(outcome)"
    }

    /// Parses a tag written by `tag(_:_:)`.
    public static func parseTag(_ tag: String) -> (LatencyMeasure, OperationOutcome)? {
        let parts = tag.split(separator: ".")
        guard parts.count == 2 else { return nil }
        let measure: LatencyMeasure = parts[0] == "service" ? .service : parts[0] == "intended" ? .intended : .service
        guard parts[0] == "service" || parts[0] == "intended",
              let outcome = OperationOutcome.allCases.first(where: { "\($0)" == parts[1] }) else { return nil }
        return (measure, outcome)
    }

    /// Parses a whole log (comments and the legend are skipped).
    public static func parse(_ text: String) throws(LoadError) -> [Entry] {
        var entries: [Entry] = []
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("\"") { continue }
            var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            var tag: String?
            if let first = fields.first, first.hasPrefix("Tag=") {
                tag = String(first.dropFirst(4))
                fields.removeFirst()
            }
            guard fields.count == 4, let start = Double(fields[0]), let length = Double(fields[1]),
                  let data = Data(base64Encoded: fields[3]) else { throw .badInput("bad interval-log line: \(line.prefix(60))") }
            entries.append(Entry(tag: tag, start: start, length: length, histogram: try HistogramEncoding.decode([UInt8](data))))
        }
        return entries
    }
}

/// `value` with `digits` decimals, no locale, no Foundation formatting on hot paths (reports only).
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "0" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let negative = value < 0
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e18 else { return String(value) }
    let n = UInt64(scaled)
    let s = UInt64(scale)
    var text = String(n / s)
    if digits > 0 {
        var frac = String(n % s)
        while frac.count < digits { frac = "0" + frac }
        text += "." + frac
    }
    return (negative && n != 0 ? "-" : "") + text
}
