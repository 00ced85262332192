import Foundation

/// What a metric measures: completed operations per second, or a latency percentile (0–100 scale).
public enum Quantity: Hashable, Sendable {
    case throughput
    case percentile(Double)

    /// `throughput`, `p50`, `p99.9`, …
    public var label: String {
        switch self {
        case .throughput: "throughput"
        case .percentile(let p): "p" + Metric.trimmed(p)
        }
    }

    /// Throughput should not fall; latency should not rise.
    public var higherIsBetter: Bool { self == .throughput }
}

/// One compared figure: a quantity of all operations (`OVERALL`) or of one operation type.
public struct Metric: Hashable, Sendable {
    /// `OVERALL` or a YCSB operation name (`READ`, `UPDATE`, …).
    public var operation: String
    public var quantity: Quantity

    public init(operation: String, quantity: Quantity) {
        self.operation = operation
        self.quantity = quantity
    }

    public static let overall = "OVERALL"

    /// `OVERALL throughput`, `READ p99`, …
    public var name: String { operation + " " + quantity.label }

    /// The metric's value in one run (nil when the run has no such operation or percentile).
    /// Per-operation throughput is that operation's completed count over the run's measured time.
    public func value(in run: RunSummary) -> Double? {
        let latency: LatencySummary
        if operation == Metric.overall {
            if quantity == .throughput { return run.throughput }
            latency = run.overall
        } else {
            guard let op = run.operations.first(where: { $0.name == operation }) else { return nil }
            latency = op.service
        }
        switch quantity {
        case .throughput: return run.elapsedSeconds > 0 ? Double(latency.count) / run.elapsedSeconds : 0
        case .percentile(let p): return latency.percentiles[p]
        }
    }

    /// `99.9` → `"99.9"`, `50` → `"50"`.
    static func trimmed(_ x: Double) -> String {
        x == x.rounded() ? String(Int(x)) : String(x)
    }
}

/// A regression limit as given on the command line: a percentage (`10%`, `10`) or a factor (`1.5x`).
public enum Limit: Hashable, Sendable {
    /// Allowed relative change, as a fraction (10 % = 0.1).
    case fraction(Double)
    /// Allowed slowdown factor: throughput may fall to 1/f, latency may rise to f×.
    case factor(Double)

    /// Parses `10%`, `10` (both 10 %), `0.5%` or `1.5x`.
    public init(parsing text: String) throws(CompareError) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.hasSuffix("x"), let f = Double(t.dropLast()), f >= 1, f.isFinite {
            self = .factor(f)
        } else if let p = Double(t.hasSuffix("%") ? String(t.dropLast()) : t), p >= 0, p.isFinite {
            self = .fraction(p / 100)
        } else {
            throw .badOption("bad limit \"\(text)\": use a percentage like 10% or a factor like 1.5x")
        }
    }

    /// The allowed worsening, as a fraction of the baseline: a drop for a value where higher is better
    /// (factor f → 1 − 1/f), a rise otherwise (factor f → f − 1).
    public func allowedWorsening(higherIsBetter: Bool) -> Double {
        switch self {
        case .fraction(let x): x
        case .factor(let f): higherIsBetter ? 1 - 1 / f : f - 1
        }
    }
}

/// The regression limits: one for throughput, one for latency, and overrides per metric
/// (`READ p99`) or per quantity (`p99`, `throughput`); the most specific wins.
public struct Thresholds: Sendable, Equatable {
    public var maxThroughputDrop: Limit
    public var maxLatencyRise: Limit
    public var overrides: [String: Limit]

    public init(maxThroughputDrop: Limit = .fraction(0.10), maxLatencyRise: Limit = .fraction(0.20), overrides: [String: Limit] = [:]) {
        self.maxThroughputDrop = maxThroughputDrop
        self.maxLatencyRise = maxLatencyRise
        self.overrides = overrides
    }

    /// Parses an override `NAME=LIMIT`, e.g. `READ p99=50%` or `throughput=1.5x`.
    public mutating func addOverride(_ text: String) throws(CompareError) {
        guard let eq = text.lastIndex(of: "=") else {
            throw .badOption("bad --threshold \"\(text)\": use METRIC=LIMIT, e.g. \"READ p99=50%\" or \"throughput=1.5x\"")
        }
        let name = text[..<eq].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw .badOption("bad --threshold \"\(text)\": no metric name before '='") }
        overrides[name] = try Limit(parsing: String(text[text.index(after: eq)...]))
    }

    /// The allowed worsening (a fraction of the baseline) for `metric`, compared as a value where higher
    /// is better or not (an excess over a reference is a cost even for throughput).
    public func allowedWorsening(for metric: Metric, higherIsBetter: Bool) -> Double {
        let limit = overrides[metric.name] ?? overrides[metric.quantity.label]
            ?? (metric.quantity == .throughput ? maxThroughputDrop : maxLatencyRise)
        return limit.allowedWorsening(higherIsBetter: higherIsBetter)
    }
}
