import Foundation

/// Latency figures of one operation type (or of all of them) from a `summary.json`, in microseconds.
public struct LatencySummary: Sendable, Equatable {
    public var count: Int
    /// Percentile (0–100 scale) → microseconds; only the percentiles `summary.json` holds.
    public var percentiles: [Double: Double]

    public init(count: Int, percentiles: [Double: Double]) {
        self.count = count
        self.percentiles = percentiles
    }
}

/// One operation type's line of a `summary.json` (`operations_detail`).
public struct OperationSummary: Sendable, Equatable {
    /// YCSB name: `READ`, `UPDATE`, …
    public var name: String
    public var errors: Int
    public var service: LatencySummary

    public init(name: String, errors: Int, service: LatencySummary) {
        self.name = name
        self.errors = errors
        self.service = service
    }
}

/// What a comparison reads from one run's `summary.json` (written by `kvbench run --out`).
public struct RunSummary: Sendable, Equatable {
    /// Where it was read from (for messages).
    public var source: String
    public var binding: String
    public var phase: String
    public var threads: Int
    public var openLoop: Bool
    /// Completed operations per second over the measured time.
    public var throughput: Double
    public var elapsedSeconds: Double
    public var overall: LatencySummary
    public var operations: [OperationSummary]

    public init(source: String, binding: String, phase: String, threads: Int, openLoop: Bool, throughput: Double,
                elapsedSeconds: Double, overall: LatencySummary, operations: [OperationSummary]) {
        self.source = source
        self.binding = binding
        self.phase = phase
        self.threads = threads
        self.openLoop = openLoop
        self.throughput = throughput
        self.elapsedSeconds = elapsedSeconds
        self.overall = overall
        self.operations = operations
    }

    /// The `summary.json` keys of the percentiles it holds.
    public static let percentileKeys: [(percentile: Double, key: String)] =
        [(50, "p50_us"), (90, "p90_us"), (99, "p99_us"), (99.9, "p999_us"), (99.99, "p9999_us")]

    /// Reads a `summary.json` document; `source` names it in errors.
    public static func decode(_ data: Data, source: String) throws(CompareError) -> RunSummary {
        let file: SummaryFile
        do {
            file = try JSONDecoder().decode(SummaryFile.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw .notASummary(source, "no \"\(key.stringValue)\" key")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .notASummary(source, "\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type")
        } catch {
            throw .notASummary(source, "not valid JSON")
        }
        let operations = file.operations_detail.map {
            OperationSummary(name: $0.operation, errors: $0.errors, service: $0.service.latency)
        }
        return RunSummary(source: source, binding: file.binding, phase: file.phase, threads: file.threads, openLoop: file.open_loop,
                          throughput: file.achieved_ops, elapsedSeconds: file.elapsed_s, overall: file.overall.latency,
                          operations: operations)
    }
}

/// The on-disk shape of `summary.json` (only the keys a comparison needs).
private struct SummaryFile: Decodable {
    struct Stats: Decodable {
        var count: Int
        var p50_us: Double
        var p90_us: Double
        var p99_us: Double
        var p999_us: Double
        var p9999_us: Double

        var latency: LatencySummary {
            LatencySummary(count: count, percentiles: [50: p50_us, 90: p90_us, 99: p99_us, 99.9: p999_us, 99.99: p9999_us])
        }
    }

    struct Operation: Decodable {
        var operation: String
        var errors: Int
        var service: Stats
    }

    var binding: String
    var phase: String
    var threads: Int
    var open_loop: Bool
    var achieved_ops: Double
    var elapsed_s: Double
    var overall: Stats
    var operations_detail: [Operation]
}
