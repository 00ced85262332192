import ArgumentParser
import KVCompare
import KVLoad

/// `kvbench compare`: the performance gate. Compares the `summary.json` of a baseline with a current run
/// (or the medians of several runs each), prints what changed and exits 1 on a regression, 2 on bad input.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two runs (summary.json files or directories of runs); exit 1 on a regression, 2 on bad input.",
        discussion: """
            BASELINE and CURRENT are each a summary.json, a run directory (--out of kvbench run) or a directory of run \
            directories (repeated runs: medians are compared, and a change no larger than the spread among a side's \
            runs is reported as noise). Limits are percentages (10%) or factors (1.5x).
            """
    )

    @Argument(help: "Baseline: a summary.json, a run directory or a directory of run directories.")
    var baseline: String

    @Argument(help: "Current runs, in the same forms as the baseline.")
    var current: String

    @Option(name: .customLong("percentile"), help: "Latency percentile to compare (repeatable; 50, 90, 99, 99.9 or 99.99; default 50 and 99).")
    var percentiles: [String] = []

    @Flag(name: .long, help: "Compare throughput only (no latency percentiles).")
    var throughputOnly = false

    @Flag(name: .long, help: "Compare latency percentiles only (no throughput).")
    var latencyOnly = false

    @Flag(name: .long, help: "Compare the OVERALL figures only, not each operation type.")
    var overallOnly = false

    @Option(name: .long, help: "Largest allowed throughput drop (10% or a factor like 1.5x).")
    var maxThroughputDrop = "10%"

    @Option(name: .long, help: "Largest allowed latency rise (20% or a factor like 1.5x).")
    var maxLatencyRise = "20%"

    @Option(name: .long, help: ArgumentHelp("A limit for one metric or quantity (repeatable), e.g. \"READ p99=50%\" or \"throughput=1.5x\".",
                                            valueName: "metric=limit"))
    var threshold: [String] = []

    @Option(name: .long, help: "Reference run(s) measured with the baseline: each metric is set against the same one of the reference (its OVERALL one if it lacks the operation).")
    var baselineReference: String?

    @Option(name: .long, help: "Reference run(s) measured with the current runs, in the same job.")
    var currentReference: String?

    @Option(name: .long, help: ArgumentHelp("""
        How values are set against the reference: ratio (metric/reference) or excess (what the runs add on top \
        of the reference, for a reference that is part of every measured operation, like the null binding).
        """, valueName: "ratio|excess"))
    var referenceMode = "ratio"

    @Flag(name: .long, help: "Print the comparison as JSON instead of a table.")
    var json = false

    func run() throws {
        let report: ComparisonReport
        do {
            report = try compare()
        } catch {
            writeToStandardError("kvbench compare: error: \(error)\n")
            throw ExitCode(2)
        }
        print(json ? report.json : report.table, terminator: "")
        if report.regressed { throw ExitCode(1) }
    }

    func compare() throws(CompareError) -> ComparisonReport {
        var thresholds = Thresholds(maxThroughputDrop: try Limit(parsing: maxThroughputDrop), maxLatencyRise: try Limit(parsing: maxLatencyRise))
        for text in threshold { try thresholds.addOverride(text) }
        var chosen: [Double] = []
        for text in percentiles {
            guard let p = Double(text.hasPrefix("p") ? String(text.dropFirst()) : text) else {
                throw .badOption("bad --percentile \(text): use a number like 99.9")
            }
            chosen.append(p)
        }
        if throughputOnly {
            chosen = []
        } else if chosen.isEmpty {
            chosen = [50, 99]
        }
        if throughputOnly && latencyOnly { throw .badOption("--throughput-only and --latency-only leave nothing to compare") }
        let options = ComparisonOptions(percentiles: chosen, thresholds: thresholds, perOperation: !overallOnly, throughput: !latencyOnly)
        var references: References?
        switch (baselineReference, currentReference) {
        case (nil, nil): references = nil
        case let (b?, c?):
            guard let mode = Normalization(rawValue: referenceMode) else {
                throw .badOption("bad --reference-mode \(referenceMode): use ratio or excess")
            }
            references = References(baseline: try SummaryLoader.load(b), current: try SummaryLoader.load(c), normalization: mode)
        default: throw .badOption("give both --baseline-reference and --current-reference, or neither")
        }
        return try Comparison.compare(baseline: try SummaryLoader.load(baseline), current: try SummaryLoader.load(current),
                                      references: references, options: options)
    }
}
