/// Repeated measurements of one metric on one side: the median is compared, the spread is the noise.
public struct Sample: Sendable, Equatable {
    public var values: [Double]

    public init(_ values: [Double]) { self.values = values }

    /// Median (mean of the middle two for an even count); 0 for no values.
    public var median: Double {
        guard !values.isEmpty else { return 0 }
        let s = values.sorted()
        let mid = s.count / 2
        return s.count % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
    }

    /// How far repeated runs disagree, as a fraction of the median: (max − min) / median over the runs
    /// left after setting aside the ⌊n/5⌋ lowest and highest (so from 5 runs on, one run hit by a
    /// neighbour does not make every change look like noise); 0 for one run.
    public var spread: Double {
        guard values.count > 1 else { return 0 }
        let trim = values.count / 5
        let kept = values.sorted().dropFirst(trim).dropLast(trim)
        guard let lo = kept.first, let hi = kept.last else { return 0 }
        let m = median
        return m != 0 ? (hi - lo) / abs(m) : 0
    }
}

/// How a metric moved.
public enum Verdict: String, Sendable, Codable {
    /// Within the limit.
    case ok
    /// Improved by more than the limit and more than the noise.
    case better
    /// Worse by more than the limit and more than the noise: a regression.
    case worse
    /// Moved by more than the limit, but by no more than the repeated runs of either side disagree.
    case noise
}

/// One metric's baseline against current.
public struct MetricComparison: Sendable, Equatable {
    public var metric: Metric
    /// Whether a rise is an improvement (throughput as such; not latency, nor any excess over a reference).
    public var higherIsBetter: Bool
    /// Per-run values (normalised by the reference when one is given).
    public var baseline: Sample
    public var current: Sample
    /// current median / baseline median − 1.
    public var change: Double
    /// The allowed worsening (fraction of the baseline).
    public var limit: Double
    /// The larger of the two sides' spreads: a change no larger than this is noise.
    public var noiseFloor: Double
    public var verdict: Verdict
}

/// The outcome of a comparison.
public struct ComparisonReport: Sendable, Equatable {
    public var baselineRuns: Int
    public var currentRuns: Int
    /// How values were normalised by a reference measured with each side (nil: raw values).
    public var normalization: Normalization?
    public var binding: String
    public var metrics: [MetricComparison]

    /// Some metric got worse beyond its limit and beyond the noise.
    public var regressed: Bool { metrics.contains { $0.verdict == .worse } }

    /// Values are ratios to (or excesses over) a reference.
    public var normalized: Bool { normalization != nil }
}

/// What to compare and how strictly.
public struct ComparisonOptions: Sendable, Equatable {
    /// Latency percentiles (0–100) compared per operation type and overall; each must be one `summary.json` holds.
    public var percentiles: [Double]
    public var thresholds: Thresholds
    /// Compare each operation type as well as `OVERALL`.
    public var perOperation: Bool
    /// Compare throughput (off: latency percentiles only).
    public var throughput: Bool

    public init(percentiles: [Double] = [50, 99], thresholds: Thresholds = Thresholds(), perOperation: Bool = true,
                throughput: Bool = true) {
        self.percentiles = percentiles
        self.thresholds = thresholds
        self.perOperation = perOperation
        self.throughput = throughput
    }
}

/// How a value is set against its reference.
public enum Normalization: String, Sendable, Equatable, Codable {
    /// metric ÷ reference: a slower machine slows both alike.
    case ratio
    /// What the measured runs add on top of the reference, in units of the reference: latency
    /// metric ÷ reference − 1, throughput reference ÷ metric − 1 (extra time per operation). Lower is
    /// better for both. Use it when the reference is part of what is measured (the null binding's
    /// generator and timer cost inside every embedded operation): a 2× slower storage path then shows
    /// as a 2× larger excess, however small a share of the whole it is.
    case excess
}

/// Reference runs measured in the same job as each side (same machine, same moment): values are
/// set against them so that a slower or busier machine does not read as a regression.
public struct References: Sendable, Equatable {
    public var baseline: [RunSummary]
    public var current: [RunSummary]
    public var normalization: Normalization

    public init(baseline: [RunSummary], current: [RunSummary], normalization: Normalization = .ratio) {
        self.baseline = baseline
        self.current = current
        self.normalization = normalization
    }
}

/// Compares two sets of runs (pure: summaries in, report out).
public enum Comparison {
    /// Compares the medians of `current` against those of `baseline`, metric by metric.
    ///
    /// With `references`, each run's value is first set against its side's reference (see `Normalization`):
    /// each metric against the same metric of the reference (`READ p99` against the reference's `READ p99`),
    /// or against the reference's `OVERALL` figure when the reference has no such operation. When a side has as many reference runs as measured runs they are paired in order (run i with
    /// reference run i, measured back to back); otherwise every run is divided by the median reference.
    public static func compare(baseline: [RunSummary], current: [RunSummary], references: References? = nil,
                               options: ComparisonOptions = ComparisonOptions()) throws(CompareError) -> ComparisonReport {
        try checkSameWorkload(baseline, "baseline", current, "current")
        if let references {
            try checkSameWorkload(references.baseline, "baseline reference", references.current, "current reference")
        }
        for p in options.percentiles where !RunSummary.percentileKeys.contains(where: { $0.percentile == p }) {
            let known = RunSummary.percentileKeys.map { Metric.trimmed($0.percentile) }.joined(separator: ", ")
            throw .badOption("percentile \(Metric.trimmed(p)) is not in summary.json (it holds \(known))")
        }
        let metrics = metricList(baseline[0], options)
        guard !metrics.isEmpty else { throw .badOption("nothing to compare: no throughput and no percentile chosen") }
        let names = Set(metrics.map(\.name)).union(metrics.map(\.quantity.label))
        for name in options.thresholds.overrides.keys.sorted() where !names.contains(name) {
            throw .badOption("--threshold names \"\(name)\", which is not a compared metric (\(metrics.map(\.name).joined(separator: ", ")))")
        }
        var rows: [MetricComparison] = []
        for metric in metrics {
            var baseRefs: [Double]?
            var currentRefs: [Double]?
            if let references {
                baseRefs = try referenceValues(metric, for: baseline, references.baseline)
                currentRefs = try referenceValues(metric, for: current, references.current)
            }
            let mode = references?.normalization
            let b = Sample(try values(metric, baseline, baseRefs, mode))
            let c = Sample(try values(metric, current, currentRefs, mode))
            let change = b.median != 0 ? c.median / b.median - 1 : (c.median == 0 ? 0 : .infinity)
            let higherIsBetter = metric.quantity.higherIsBetter && mode != .excess
            let limit = options.thresholds.allowedWorsening(for: metric, higherIsBetter: higherIsBetter)
            let noise = max(b.spread, c.spread)
            let worsening = higherIsBetter ? -change : change
            let verdict: Verdict
            if worsening > limit {
                verdict = abs(change) <= noise ? .noise : .worse
            } else if -worsening > limit {
                verdict = abs(change) <= noise ? .noise : .better
            } else {
                verdict = .ok
            }
            rows.append(MetricComparison(metric: metric, higherIsBetter: higherIsBetter, baseline: b, current: c, change: change, limit: limit,
                                         noiseFloor: noise, verdict: verdict))
        }
        return ComparisonReport(baselineRuns: baseline.count, currentRuns: current.count, normalization: references?.normalization,
                                binding: baseline[0].binding, metrics: rows)
    }

    /// OVERALL first, then each operation type in the run's order; throughput, then the percentiles.
    static func metricList(_ run: RunSummary, _ options: ComparisonOptions) -> [Metric] {
        let quantities = (options.throughput ? [Quantity.throughput] : []) + options.percentiles.map { Quantity.percentile($0) }
        let operations = [Metric.overall] + (options.perOperation ? run.operations.map(\.name) : [])
        return operations.flatMap { op in quantities.map { Metric(operation: op, quantity: $0) } }
    }

    /// The reference value each run's `metric` is set against (paired in order, or the median): the same
    /// metric in the reference, or the reference's `OVERALL` one when it has no such operation.
    static func referenceValues(_ metric: Metric, for runs: [RunSummary], _ references: [RunSummary]) throws(CompareError) -> [Double] {
        let overall = Metric(operation: Metric.overall, quantity: metric.quantity)
        var values: [Double] = []
        for ref in references {
            guard let v = metric.value(in: ref) ?? overall.value(in: ref), v > 0 else {
                throw .badOption("the reference \(ref.source) has no \(overall.name) to divide by (compare throughput only, or use a reference with latencies)")
            }
            values.append(v)
        }
        if values.count == runs.count { return values }
        return Array(repeating: Sample(values).median, count: runs.count)
    }

    static func values(_ metric: Metric, _ runs: [RunSummary], _ references: [Double]?,
                       _ mode: Normalization?) throws(CompareError) -> [Double] {
        var out: [Double] = []
        for (i, run) in runs.enumerated() {
            guard let v = metric.value(in: run) else {
                throw .mismatch("\(run.source) has no \(metric.name)")
            }
            guard let references, let mode else { out.append(v); continue }
            let ref = references[i]
            switch mode {
            case .ratio: out.append(v / ref)
            case .excess:
                guard v > 0 else { throw .mismatch("\(run.source) has no \(metric.name) to set against the reference") }
                out.append(metric.quantity.higherIsBetter ? ref / v - 1 : v / ref - 1)
            }
        }
        return out
    }

    /// Every run on both sides must measure the same thing: binding, phase, loop kind, threads, operation types.
    static func checkSameWorkload(_ a: [RunSummary], _ aName: String, _ b: [RunSummary], _ bName: String) throws(CompareError) {
        guard let first = a.first else { throw .badOption("no \(aName) runs") }
        guard !b.isEmpty else { throw .badOption("no \(bName) runs") }
        func describe(_ r: RunSummary) -> String {
            "binding \(r.binding), phase \(r.phase), \(r.openLoop ? "open" : "closed") loop, \(r.threads) threads, operations "
                + r.operations.map(\.name).sorted().joined(separator: "/")
        }
        let expected = describe(first)
        for run in a + b where describe(run) != expected {
            throw .mismatch("\(first.source) has \(expected); \(run.source) has \(describe(run))")
        }
    }
}
