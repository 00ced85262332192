import Foundation
import KVWorkload

/// Runs a plan against a binding: starts the workers, merges their intervals as they arrive,
/// shows the status line and returns the result.
public enum LoadDriver {
    /// Runs `plan` with in-process `binding` on `plan.threads` threads.
    public static func run(plan: RunPlan, binding: any SyncBinding, bindingName: String, clock: any LoadClock = MonotonicClock(),
                           status: StatusLine? = nil) throws -> RunResult {
        try plan.validate()
        let collector = IntervalCollector()
        let start = clock.now()
        let startWall = wallClockSeconds()
        let pool = RecordValues.makePool(for: plan.spec)
        var sessions: [any SyncSession] = []
        for worker in 0..<plan.threads { sessions.append(try binding.makeSession(worker: worker)) }
        let box = SessionBox(sessions)
        for worker in 0..<plan.threads {
            let thread = Thread {
                var session = box.take(worker)
                var core = WorkerCore(index: worker, plan: plan, start: start, collector: collector,
                                      nodeCount: binding.nodeNames.count)
                var values = RecordValues(spec: plan.spec, pool: pool)
                runSyncWorker(&session, core: &core, values: &values, clock: clock)
                values.deallocate()
            }
            thread.name = "kvbench-worker-\(worker)"
            thread.start()
        }
        return collect(plan: plan, collector: collector, clock: clock, start: start, startWall: startWall,
                       bindingName: bindingName, nodeNames: binding.nodeNames, status: status)
    }

    /// The loop of one in-process worker.
    static func runSyncWorker<S: SyncSession>(_ session: inout S, core: inout WorkerCore, values: inout RecordValues,
                                             clock: any LoadClock) {
        var now = clock.now()
        let namer = core.stream.keyNamer
        while true {
            switch core.next(now: now) {
            case .done:
                core.finish(now: clock.now())
                return
            case .wait(let until):
                clock.wait(until: until)
                now = clock.now()
            case .send(var op):
                let value = op.operation.kind.writes ? values.next(&core.stream) : UnsafeRawBufferPointer(start: nil, count: 0)
                op.sent = now
                let outcome = core.withKey { key in
                    session.perform(OperationRequest(operation: op.operation, key: key, value: value, keyNamer: namer))
                }
                now = clock.now()
                core.complete(op, outcome: outcome, now: now, node: session.lastNode)
            }
        }
    }

    /// The reporter: polls the collector, finalizes intervals, prints status, returns the result.
    static func collect(plan: RunPlan, collector: IntervalCollector, clock: any LoadClock, start: UInt64, startWall: Double,
                        bindingName: String, nodeNames: [String], status: StatusLine?) -> RunResult {
        var aggregator = RunAggregator(workerCount: plan.threads, openLoop: plan.isOpenLoop,
                                       intervalSeconds: Double(plan.intervalNanos) / 1e9)
        aggregator.keepsIntervalLog = plan.keepsIntervalLog
        var completed: UInt64 = 0
        while true {
            let snapshots = collector.drain()
            let finalized = aggregator.absorb(snapshots)
            if let status {
                for index in finalized {
                    let latest = aggregator.latest
                    completed = aggregator.totals.slots.reduce(0) { $0 + ($1?.totalCount ?? 0) }
                    if plan.isOpenLoop { completed /= 2 }
                    let elapsed = Double(index + 1) * aggregator.intervalSeconds - plan.warmupSeconds
                    status.show(StatusLine.render(second: index, interval: latest, intervalSeconds: aggregator.intervalSeconds,
                                                  completed: completed, total: plan.totalOperations, elapsed: max(elapsed, 0),
                                                  timeLimit: plan.timeLimit,
                                                  warmingUp: elapsed < 0 || (latest.isEmpty && plan.warmup != .none && completed == 0)),
                                second: index)
                }
            }
            if aggregator.isComplete { break }
            usleep(snapshots.isEmpty ? 5_000 : 0)
        }
        status?.finish()
        let measureStart = start &+ UInt64(plan.warmupSeconds * 1e9)
        let end = max(aggregator.endTime, measureStart)
        let nodes = aggregator.nodes ?? NodeTally(nodeCount: nodeNames.count)
        var result = RunResult(binding: bindingName, phase: plan.phase == .load ? "load" : "run", threads: plan.threads,
                         openLoop: plan.isOpenLoop, targetRate: plan.offeredRate,
                         elapsedSeconds: Double(end - measureStart) / 1e9, scheduled: aggregator.scheduled,
                         totals: aggregator.totals, rows: aggregator.rows, logLines: aggregator.logLines,
                         nodeNames: nodeNames, nodeOperations: nodes.operations, nodeKeysTouched: nodes.touched.map(\.count),
                         startTime: startWall)
        result.nodeTimeseries = aggregator.nodeRows
        for (text, count) in aggregator.errorReplies.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
            result.notes.append("error reply ×\(count): \(text)")
        }
        return result
    }
}

/// Hands each worker thread its session (moved in once, before the threads start).
final class SessionBox: @unchecked Sendable {
    private var sessions: [(any SyncSession)?]
    private let lock = NSLock()

    init(_ sessions: [any SyncSession]) { self.sessions = sessions }

    func take(_ index: Int) -> any SyncSession {
        lock.lock()
        defer { lock.unlock() }
        let s = sessions[index]!
        sessions[index] = nil
        return s
    }
}
