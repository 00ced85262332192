import Foundation

/// Text and JSON renderings of a `ComparisonReport`.
extension ComparisonReport {
    /// An aligned table: metric, baseline and current medians, change, noise floor, limit and verdict.
    public var table: String {
        let unit = switch normalization {
        case nil: ""
        case .ratio: " (values are ratios to the reference)"
        case .excess: " (values are excesses over the reference: latency/ref - 1; throughput as extra time per op, ref/throughput - 1)"
        }
        var lines = ["baseline: \(baselineRuns) run(s), current: \(currentRuns) run(s), binding \(binding)\(unit)"]
        var rows = [["metric", "baseline", "current", "change", "noise", "limit", "verdict"]]
        for m in metrics {
            let sign = m.higherIsBetter ? "-" : "+"
            rows.append([m.metric.name, Self.number(m.baseline.median, m.metric, normalized), Self.number(m.current.median, m.metric, normalized),
                         Self.percent(m.change, signed: true), "±" + Self.percent(m.noiseFloor, signed: false),
                         sign + Self.percent(m.limit, signed: false), m.verdict.rawValue])
        }
        let widths = rows[0].indices.map { col in rows.map { $0[col].count }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { col, cell in
                let pad = String(repeating: " ", count: widths[col] - cell.count)
                return col == 0 || col == row.count - 1 ? cell + pad : pad + cell
            }
            lines.append(cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
        let worse = metrics.filter { $0.verdict == .worse }.map(\.metric.name)
        lines.append(worse.isEmpty ? "result: ok" : "result: REGRESSION in " + worse.joined(separator: ", "))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The report as JSON (one object; `result` is `ok` or `regression`).
    public var json: String {
        struct Row: Encodable {
            var metric: String, operation: String, quantity: String
            var baseline: Double, current: Double, change: Double
            var baseline_runs: [Double], current_runs: [Double]
            var baseline_spread: Double, current_spread: Double, limit: Double, higher_is_better: Bool, verdict: Verdict
        }
        struct Document: Encodable {
            var result: String, binding: String, normalization: String, baseline_runs: Int, current_runs: Int, metrics: [Row]
        }
        let rows = metrics.map {
            Row(metric: $0.metric.name, operation: $0.metric.operation, quantity: $0.metric.quantity.label,
                baseline: $0.baseline.median, current: $0.current.median, change: $0.change,
                baseline_runs: $0.baseline.values, current_runs: $0.current.values,
                baseline_spread: $0.baseline.spread, current_spread: $0.current.spread, limit: $0.limit, higher_is_better: $0.higherIsBetter, verdict: $0.verdict)
        }
        let doc = Document(result: regressed ? "regression" : "ok", binding: binding, normalization: normalization?.rawValue ?? "none",
                           baseline_runs: baselineRuns, current_runs: currentRuns, metrics: rows)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data = (try? encoder.encode(doc)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func number(_ x: Double, _ metric: Metric, _ normalized: Bool) -> String {
        if normalized { return String(format: "%.4g", x) }
        return metric.quantity.higherIsBetter ? String(format: "%.1f ops/s", x) : String(format: "%.3f us", x)
    }

    static func percent(_ x: Double, signed: Bool) -> String {
        guard x.isFinite else { return x > 0 ? "+inf%" : "-inf%" }
        return String(format: signed ? "%+.1f%%" : "%.1f%%", x * 100)
    }
}
