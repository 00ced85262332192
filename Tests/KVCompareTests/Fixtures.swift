import Foundation
import KVCompare
import KVLoad
import KVWorkload

/// A store whose reads take `read` ns and updates `update` ns (plus a fixed 0–9 step pattern so
/// percentiles differ), all times `scale`: scale 2 is a machine (or a build) twice as slow.
struct TimedBinding: SyncBinding {
    let clock: ManualLoadClock
    let read: UInt64
    let update: UInt64
    let scale: Double
    var nodeNames: [String] { ["timed"] }

    func makeSession(worker: Int) throws -> any SyncSession {
        TimedSession(clock: clock, read: read, update: update, scale: scale)
    }
}

struct TimedSession: SyncSession {
    let clock: ManualLoadClock
    let read: UInt64
    let update: UInt64
    let scale: Double
    var done: UInt64 = 0

    mutating func perform(_ request: OperationRequest) -> OperationOutcome {
        let base = request.operation.kind == .read ? read : update
        clock.advance(UInt64(Double(base + (done % 10) * base / 10) * scale))
        done += 1
        return .ok
    }
}

enum Fixtures {
    /// A 2,000-operation workload-A-like run (reads and updates) on the stepped clock, as a `RunResult`.
    static func result(scale: Double = 1, read: UInt64 = 10_000, update: UInt64 = 20_000, binding: String = "timed",
                       properties extra: [String: String] = [:]) throws -> RunResult {
        var p = ["recordcount": "100", "operationcount": "2000", "readproportion": "0.5", "updateproportion": "0.5",
                 "insertproportion": "0", "requestdistribution": "uniform", "seed": "7"]
        p.merge(extra) { $1 }
        let spec = try WorkloadSpec(properties: WorkloadProperties(p))
        let plan = RunPlan(spec: spec, phase: .run, threads: 1)
        let clock = ManualLoadClock()
        let timed = TimedBinding(clock: clock, read: read, update: update, scale: scale)
        return try LoadDriver.run(plan: plan, binding: timed, bindingName: binding, clock: clock)
    }

    /// The same run as `summary.json` (written by the real report code) read back by the comparison.
    static func summary(scale: Double = 1, read: UInt64 = 10_000, update: UInt64 = 20_000, binding: String = "timed",
                        properties: [String: String] = [:], source: String = "synthetic") throws -> RunSummary {
        let r = try result(scale: scale, read: read, update: update, binding: binding, properties: properties)
        return try RunSummary.decode(Data(Reports.summaryJSON(r).utf8), source: source)
    }

    /// Several runs at the given scales.
    static func runs(_ scales: [Double], read: UInt64 = 10_000, update: UInt64 = 20_000, binding: String = "timed") throws -> [RunSummary] {
        try scales.enumerated().map { i, s in try summary(scale: s, read: read, update: update, binding: binding, source: "run-\(i)") }
    }

    /// A fresh temporary directory (removed by the caller).
    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "kvcompare-test-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

extension ComparisonReport {
    func verdict(_ name: String) -> Verdict? { metrics.first { $0.metric.name == name }?.verdict }
}
