import KVWorkload

/// Everything a finished (or merged) run reports.
public struct RunResult: Sendable {
    public var binding: String
    public var phase: String
    public var threads: Int
    public var openLoop: Bool
    /// Offered rate (ops/s, total) for open-loop runs; 0 for closed loop.
    public var targetRate: Double
    /// Measured wall time in seconds (warm-up excluded).
    public var elapsedSeconds: Double
    /// Operations the workers started after warm-up (the offered load actually issued).
    public var scheduled: Int64
    public var totals: HistogramSet
    public var rows: [TimeseriesRow]
    /// Interval-log lines per operation name.
    public var logLines: [String: [String]]
    public var nodeNames: [String]
    public var nodeOperations: [Int64]
    public var nodeKeysTouched: [Int]
    /// Run start, seconds since the epoch (interval-log base time).
    public var startTime: Double
    /// Operations per node per interval (empty for merged runs).
    public var nodeTimeseries: [NodeInterval] = []
    /// Notes printed with the summary (unsupported operations, merge caveats, …).
    public var notes: [String] = []

    /// Operations completed (every outcome).
    public var operations: UInt64 {
        OperationKind.allCases.reduce(0) { sum, kind in sum + OperationOutcome.allCases.reduce(0) { $0 + totals.count(kind, $1) } }
    }

    /// The busiest node's share of operations over the mean share (1.0: even; nil with one node).
    public var nodeMaxOverMean: Double? {
        let total = nodeOperations.reduce(0, +)
        guard nodeOperations.count > 1, total > 0 else { return nil }
        return Double(nodeOperations.max()!) * Double(nodeOperations.count) / Double(total)
    }

    /// Completed operations per second.
    public var throughput: Double { elapsedSeconds > 0 ? Double(operations) / elapsedSeconds : 0 }

    /// Error (error + timeout) count for `kind` (nil = all kinds).
    public func errors(_ kind: OperationKind? = nil) -> UInt64 {
        let kinds = kind.map { [$0] } ?? OperationKind.allCases
        return kinds.reduce(0) { $0 + totals.count($1, .error) + totals.count($1, .timeout) }
    }
}
