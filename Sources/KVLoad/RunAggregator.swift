import KVWorkload

/// Latency statistics of one histogram in microseconds (what every report prints).
public struct LatencyStats: Sendable, Equatable, Codable {
    public var count: UInt64
    public var meanMicros: Double
    public var minMicros: Double
    public var p50Micros: Double
    public var p90Micros: Double
    public var p99Micros: Double
    public var p999Micros: Double
    public var p9999Micros: Double
    public var maxMicros: Double

    /// The statistics of `h`; `sum` is the exact sum of its values in ns when known (the mean is then
    /// exact and costs no walk over the buckets), else the mean is HdrHistogram's bucket-based one.
    public init(_ h: LatencyHistogram?, sum: UInt64? = nil) {
        guard let h, h.totalCount > 0 else {
            self = LatencyStats(count: 0, mean: 0, min: 0, p: [0, 0, 0, 0, 0], max: 0)
            return
        }
        func us(_ ns: UInt64) -> Double { Double(ns) / 1000 }
        let mean = sum.map { Double($0) / Double(h.totalCount) } ?? h.mean
        self = LatencyStats(count: h.totalCount, mean: mean / 1000, min: us(h.min),
                            p: Self.percentiles(h).map(us), max: us(h.max))
    }

    /// The reported percentiles, in order.
    static let percentileLevels: [Double] = [50, 90, 99, 99.9, 99.99]

    /// `h.valueAtPercentile(p)` for every level of `percentileLevels`, with the same rounding, from one walk
    /// over the buckets that stops at the last level. (`valueAtPercentile` walks the counts from the start for
    /// each level, and is not specialized for our count type: five such walks were most of the collector's
    /// work per interval.)
    static func percentiles(_ h: LatencyHistogram) -> [UInt64] {
        let total = h.totalCount
        // The count each level must reach, rounded as HdrHistogram rounds it (one ulp down, then up).
        let targets = percentileLevels.map { level -> UInt64 in
            let requested = Swift.min(Swift.max(level.nextDown, 0), 100)
            return Swift.max(1, UInt64((requested * Double(total) / 100).rounded(.up)))
        }
        if LatencyRecorder.sharesLayout(h) { return percentilesByIndex(h, targets: targets) }
        var walk = PercentileWalk(targets: targets)
        let low = h.min, high = h.maxRecorded
        for bucket in h.recordedValues() {
            walk.add(bucket.count, value: Swift.max(Swift.min(bucket.value, high), low))
            if walk.done { break }
        }
        return walk.values
    }

    /// The same walk for a histogram in `LatencyRecorder`'s layout (every one kvbench records), by counts index
    /// from the bucket of the minimum on. hdrhistogram-swift's `recordedValues()` iterator starts at index 0 and
    /// builds an iteration value per step: ~5,000 instructions per recorded bucket, 80 M for the final summary of
    /// a 1M-operation run (callgrind). Here a bucket costs a `countForValue`.
    static func percentilesByIndex(_ h: LatencyHistogram, targets: [UInt64]) -> [UInt64] {
        var walk = PercentileWalk(targets: targets)
        let low = h.min, high = h.maxRecorded
        var index = LatencyRecorder.index(of: low)
        let last = LatencyRecorder.index(of: high)
        while index <= last, !walk.done {
            let count = h.countForValue(LatencyRecorder.lowestValue(at: index))
            if count > 0 {
                // Every value of the bucket reports as its highest equivalent, clamped to what was recorded.
                walk.add(count, value: Swift.max(Swift.min(LatencyRecorder.lowestValue(at: index + 1) - 1, high), low))
            }
            index += 1
        }
        return walk.values
    }

    init(count: UInt64, mean: Double, min: Double, p: [Double], max: Double) {
        self.count = count
        meanMicros = mean
        minMicros = min
        p50Micros = p[0]
        p90Micros = p[1]
        p99Micros = p[2]
        p999Micros = p[3]
        p9999Micros = p[4]
        maxMicros = max
    }
}

/// Percentile levels read off a histogram's buckets fed in ascending order: each level takes the value of the
/// bucket at which the cumulative count first reaches that level's target count.
struct PercentileWalk {
    let targets: [UInt64]
    private(set) var values: [UInt64]
    private var reached = 0
    private var cumulative: UInt64 = 0

    init(targets: [UInt64]) {
        self.targets = targets
        values = [UInt64](repeating: 0, count: targets.count)
    }

    /// Whether every level has its value.
    var done: Bool { reached == targets.count }

    /// The next non-empty bucket: `count` values reported as `value`.
    mutating func add(_ count: UInt64, value: UInt64) {
        cumulative += count
        while reached < targets.count, cumulative >= targets[reached] {
            values[reached] = value
            reached += 1
        }
    }
}

/// One `timeseries.csv` row: one interval of one operation (or `Intended-` operation).
public struct TimeseriesRow: Sendable, Equatable, Codable {
    public var second: Int
    public var operation: String
    public var stats: LatencyStats
    public var errors: UInt64
}

/// Operations each node served in one interval.
public struct NodeInterval: Sendable, Equatable {
    public var second: Int
    public var operations: [Int64]

    public init(second: Int, operations: [Int64]) {
        self.second = second
        self.operations = operations
    }
}

/// Merges workers' interval snapshots into per-interval rows, interval-log lines and totals.
/// An interval is final once every worker has delivered it (or finished), so a stalled
/// worker delays, but never loses, its share. Single-threaded (the reporter's).
public struct RunAggregator {
    public let workerCount: Int
    public let openLoop: Bool
    public let intervalSeconds: Double
    /// Everything measured (warm-up excluded).
    public private(set) var totals = HistogramSet()
    public private(set) var rows: [TimeseriesRow] = []
    /// Interval-log lines per log name (`READ` → lines), in interval order (none when `keepsIntervalLog` is off).
    public private(set) var logLines: [String: [String]] = [:]
    /// Whether finalized intervals are encoded into `logLines`.
    public var keepsIntervalLog = true
    public private(set) var nodes: NodeTally?
    /// Measured operations per node per finalized interval (interval index, counts by node).
    public private(set) var nodeRows: [NodeInterval] = []
    var openNodes: [Int: [Int64]] = [:]
    /// Error replies by text, over all workers.
    public private(set) var errorReplies: [String: Int] = [:]
    public private(set) var scheduled: Int64 = 0
    public private(set) var lastFinalized = -1
    /// The latest finalized interval's merged histograms (for the status line).
    public private(set) var latest = HistogramSet()
    public private(set) var endTime: UInt64 = 0
    var delivered: [Int]
    var finishedWorkers: [Bool]
    var open: [Int: HistogramSet] = [:]

    public init(workerCount: Int, openLoop: Bool, intervalSeconds: Double = 1) {
        self.workerCount = workerCount
        self.openLoop = openLoop
        self.intervalSeconds = intervalSeconds
        delivered = Array(repeating: -1, count: workerCount)
        finishedWorkers = Array(repeating: false, count: workerCount)
    }

    /// True when every worker has finished and every interval is final.
    public var isComplete: Bool { finishedWorkers.allSatisfy { $0 } && open.isEmpty }

    /// Folds in snapshots; returns the intervals finalized by them.
    @discardableResult
    public mutating func absorb(_ snapshots: [IntervalSnapshot]) -> [Int] {
        for s in snapshots {
            open[s.interval, default: HistogramSet()].add(s.histograms)
            if !s.nodeOperations.isEmpty {
                var counts = openNodes[s.interval] ?? Array(repeating: 0, count: s.nodeOperations.count)
                for i in 0..<min(counts.count, s.nodeOperations.count) { counts[i] += s.nodeOperations[i] }
                openNodes[s.interval] = counts
            }
            scheduled += s.scheduled
            delivered[s.worker] = max(delivered[s.worker], s.interval)
            if s.final {
                finishedWorkers[s.worker] = true
                endTime = max(endTime, s.endTime)
                for (text, count) in s.errorReplies { errorReplies[text, default: 0] += count }
                if let n = s.nodes {
                    if nodes == nil { nodes = n } else { nodes!.add(n) }
                }
            }
        }
        var done: [Int] = []
        let ready = zip(delivered, finishedWorkers).map { $1 ? Int.max : $0 }.min() ?? Int.max
        for index in open.keys.sorted() where index <= ready {
            finalize(index, open.removeValue(forKey: index)!)
            done.append(index)
        }
        return done
    }

    mutating func finalize(_ index: Int, _ set: HistogramSet) {
        if let counts = openNodes.removeValue(forKey: index), counts.contains(where: { $0 > 0 }) {
            nodeRows.append(NodeInterval(second: index, operations: counts))
        }
        totals.add(set)
        latest = set
        lastFinalized = index
        let start = Double(index) * intervalSeconds
        let measures: [LatencyMeasure] = openLoop ? [.service, .intended] : [.service]
        for kind in set.kindsPresent {
            let errors = set.count(kind, .error) + set.count(kind, .timeout)
            for measure in measures {
                rows.append(TimeseriesRow(second: index, operation: measure.name(of: kind), stats: set.stats(kinds: [kind], measure: measure),
                                          errors: errors))
            }
            if keepsIntervalLog {
                logLines[kind.ycsbName, default: []].append(contentsOf: IntervalLog.lines(for: set, kind: kind, start: start, length: intervalSeconds))
            }
        }
    }
}
