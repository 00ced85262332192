import Foundation
import KVWorkload

/// Text, CSV and JSON renderings of a `RunResult`.
public enum Reports {
    /// YCSB-style summary: `[OVERALL], Throughput(ops/sec), N`, then per operation
    /// `Operations`, `AverageLatency(us)`, min/max and percentile lines and `Return=` counts.
    /// Open-loop runs add `Intended-<OP>` blocks (latency from the intended start).
    public static func ycsbText(_ r: RunResult) -> String {
        var out = "[OVERALL], RunTime(ms), \(fixed(r.elapsedSeconds * 1000, 0))\n"
        out += "[OVERALL], Throughput(ops/sec), \(fixed(r.throughput, 1))\n"
        if r.openLoop {
            out += "[OVERALL], OfferedThroughput(ops/sec), \(fixed(r.targetRate, 1))\n"
            out += "[OVERALL], AchievedThroughput(ops/sec), \(fixed(r.throughput, 1))\n"
        }
        let measures: [LatencyMeasure] = r.openLoop ? [.service, .intended] : [.service]
        for kind in r.totals.kindsPresent {
            for measure in measures {
                let name = measure.name(of: kind)
                let s = r.totals.stats(kinds: [kind], measure: measure)
                out += "[\(name)], Operations, \(s.count)\n"
                out += "[\(name)], AverageLatency(us), \(fixed(s.meanMicros, 3))\n"
                out += "[\(name)], MinLatency(us), \(fixed(s.minMicros, 3))\n"
                out += "[\(name)], MaxLatency(us), \(fixed(s.maxMicros, 3))\n"
                out += "[\(name)], 50thPercentileLatency(us), \(fixed(s.p50Micros, 3))\n"
                out += "[\(name)], 90thPercentileLatency(us), \(fixed(s.p90Micros, 3))\n"
                out += "[\(name)], 99thPercentileLatency(us), \(fixed(s.p99Micros, 3))\n"
                out += "[\(name)], 99.9PercentileLatency(us), \(fixed(s.p999Micros, 3))\n"
                out += "[\(name)], 99.99PercentileLatency(us), \(fixed(s.p9999Micros, 3))\n"
                if measure == .service {
                    for outcome in OperationOutcome.allCases where r.totals.count(kind, outcome) > 0 {
                        out += "[\(name)], Return=\(outcome.ycsbStatus), \(r.totals.count(kind, outcome))\n"
                    }
                }
            }
        }
        if let ratio = r.nodeMaxOverMean {
            let total = r.nodeOperations.reduce(0, +)
            let shares = zip(r.nodeNames, r.nodeOperations).map { "\($0) \(fixed(100 * Double($1) / Double(max(total, 1)), 1))%" }
            out += "[NODES], MaxOverMeanShare, \(fixed(ratio, 3))\n"
            out += "# node shares: " + shares.joined(separator: ", ") + " (per second in nodes_timeseries.csv)\n"
        }
        for note in r.notes { out += "# \(note)\n" }
        return out
    }

    public static let summaryColumns = "operation,count,errors,throughput_ops,mean_us,p50_us,p90_us,p99_us,p999_us,p9999_us,max_us"

    /// `summary.csv`: one row per operation and one `OVERALL` (service time); open-loop runs
    /// add `Intended-` rows (latency from the intended start).
    public static func summaryCSV(_ r: RunResult) -> String {
        var out = summaryColumns + "\n"
        let measures: [LatencyMeasure] = r.openLoop ? [.service, .intended] : [.service]
        for measure in measures {
            for kind in r.totals.kindsPresent {
                out += summaryRow(measure.name(of: kind), r.totals.stats(kinds: [kind], measure: measure), errors: r.errors(kind), r)
            }
            out += summaryRow(measure == .service ? "OVERALL" : "Intended-OVERALL", r.totals.stats(measure: measure), errors: r.errors(), r)
        }
        return out
    }

    static func summaryRow(_ name: String, _ s: LatencyStats, errors: UInt64, _ r: RunResult) -> String {
        let rate = r.elapsedSeconds > 0 ? Double(s.count) / r.elapsedSeconds : 0
        let fields = [name, "\(s.count)", "\(errors)", fixed(rate, 1)]
            + [s.meanMicros, s.p50Micros, s.p90Micros, s.p99Micros, s.p999Micros, s.p9999Micros, s.maxMicros].map { fixed($0, 3) }
        return fields.joined(separator: ",") + "\n"
    }

    public static let timeseriesColumns = "second,operation,count,mean_us,p50_us,p90_us,p99_us,p999_us,max_us,errors"

    /// `timeseries.csv`: one row per second per operation.
    public static func timeseriesCSV(_ r: RunResult) -> String {
        var out = timeseriesColumns + "\n"
        for row in r.rows {
            let s = row.stats
            out += "\(row.second),\(row.operation),\(s.count),"
                + [s.meanMicros, s.p50Micros, s.p90Micros, s.p99Micros, s.p999Micros, s.maxMicros].map { fixed($0, 3) }.joined(separator: ",")
                + ",\(row.errors)\n"
        }
        return out
    }

    public static let nodesColumns = "node,ops,keys_touched,share"

    /// `nodes.csv`: per node the operations it served, distinct keys it saw and its share of ops.
    public static func nodesCSV(_ r: RunResult) -> String {
        var out = nodesColumns + "\n"
        let total = r.nodeOperations.reduce(0, +)
        for (i, name) in r.nodeNames.enumerated() where i < r.nodeOperations.count {
            let share = total > 0 ? Double(r.nodeOperations[i]) / Double(total) : 0
            out += "\(name),\(r.nodeOperations[i]),\(i < r.nodeKeysTouched.count ? r.nodeKeysTouched[i] : 0),\(fixed(share, 6))\n"
        }
        return out
    }

    public static let nodesTimeseriesColumns = "second,node,ops,share"

    /// `nodes_timeseries.csv`: per interval, each node's operations and its share of that interval's.
    public static func nodesTimeseriesCSV(_ r: RunResult) -> String {
        var out = nodesTimeseriesColumns + "\n"
        for row in r.nodeTimeseries {
            let total = row.operations.reduce(0, +)
            for (i, name) in r.nodeNames.enumerated() where i < row.operations.count {
                let share = total > 0 ? Double(row.operations[i]) / Double(total) : 0
                out += "\(row.second),\(name),\(row.operations[i]),\(fixed(share, 6))\n"
            }
        }
        return out
    }

    /// `summary.json`: the run's parameters, the summary rows and per-outcome counts.
    public static func summaryJSON(_ r: RunResult) -> String {
        func statsJSON(_ s: LatencyStats) -> String {
            "{\"count\":\(s.count),\"mean_us\":\(fixed(s.meanMicros, 3)),\"min_us\":\(fixed(s.minMicros, 3)),\"p50_us\":\(fixed(s.p50Micros, 3)),"
                + "\"p90_us\":\(fixed(s.p90Micros, 3)),\"p99_us\":\(fixed(s.p99Micros, 3)),\"p999_us\":\(fixed(s.p999Micros, 3)),"
                + "\"p9999_us\":\(fixed(s.p9999Micros, 3)),\"max_us\":\(fixed(s.maxMicros, 3))}"
        }
        var ops: [String] = []
        for kind in r.totals.kindsPresent {
            var fields = ["\"operation\":\"\(kind.ycsbName)\"", "\"errors\":\(r.errors(kind))"]
            fields.append("\"service\":" + statsJSON(r.totals.stats(kinds: [kind], measure: .service)))
            if r.openLoop { fields.append("\"intended\":" + statsJSON(r.totals.stats(kinds: [kind], measure: .intended))) }
            let outcomes = OperationOutcome.allCases.map { "\"\($0.ycsbStatus)\":\(r.totals.count(kind, $0))" }
            fields.append("\"outcomes\":{" + outcomes.joined(separator: ",") + "}")
            ops.append("{" + fields.joined(separator: ",") + "}")
        }
        let nodes = r.nodeNames.enumerated().map { i, name in
            "{\"node\":\"\(name)\",\"ops\":\(i < r.nodeOperations.count ? r.nodeOperations[i] : 0),\"keys_touched\":\(i < r.nodeKeysTouched.count ? r.nodeKeysTouched[i] : 0)}"
        }
        var top = [
            "\"binding\":\"\(r.binding)\"", "\"phase\":\"\(r.phase)\"", "\"threads\":\(r.threads)",
            "\"open_loop\":\(r.openLoop)", "\"offered_ops\":\(fixed(r.targetRate, 3))", "\"achieved_ops\":\(fixed(r.throughput, 3))",
            "\"elapsed_s\":\(fixed(r.elapsedSeconds, 6))", "\"operations\":\(r.operations)", "\"errors\":\(r.errors())",
            "\"start_time\":\(fixed(r.startTime, 3))", "\"scheduled\":\(r.scheduled)",
        ]
        if let ratio = r.nodeMaxOverMean { top.append("\"node_max_over_mean\":\(fixed(ratio, 4))") }
        top.append("\"overall\":" + statsJSON(r.totals.stats(measure: .service)))
        if r.openLoop { top.append("\"overall_intended\":" + statsJSON(r.totals.stats(measure: .intended))) }
        top.append("\"operations_detail\":[" + ops.joined(separator: ",") + "]")
        top.append("\"nodes\":[" + nodes.joined(separator: ",") + "]")
        top.append("\"notes\":[" + r.notes.map { "\"" + $0.replacingOccurrences(of: "\"", with: "'") + "\"" }.joined(separator: ",") + "]")
        return "{" + top.joined(separator: ",") + "}\n"
    }

    /// Writes every report file under `directory` (created if missing): the CSVs, JSON,
    /// the YCSB text and one interval log per operation (`<OP>.hlog`).
    public static func write(_ r: RunResult, to directory: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func put(_ name: String, _ text: String) throws {
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        try put("summary.csv", summaryCSV(r))
        try put("timeseries.csv", timeseriesCSV(r))
        try put("nodes.csv", nodesCSV(r))
        if r.nodeNames.count > 1 { try put("nodes_timeseries.csv", nodesTimeseriesCSV(r)) }
        try put("summary.json", summaryJSON(r))
        try put("summary.txt", ycsbText(r))
        for (name, lines) in r.logLines.sorted(by: { $0.key < $1.key }) {
            try put(name + ".hlog", IntervalLog.header(startTime: r.startTime) + lines.joined(separator: "\n") + "\n")
        }
    }
}
