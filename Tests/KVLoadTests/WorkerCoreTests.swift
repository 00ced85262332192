import Testing
import KVWorkload

@testable import KVLoad

@Suite("Worker core")
struct WorkerCoreTests {
    /// A worker's per-node counts go out with each interval it closes and start again from zero; the final
    /// snapshot carries the last partial interval and the run's tally, which is their sum.
    @Test func workerHandsOverPerNodeCountsPerIntervalAndTalliesThem() {
        let collector = IntervalCollector()
        var plan = RunPlan(spec: WorkloadSpec(), phase: .run)
        plan.intervalNanos = 1_000_000_000
        var core = WorkerCore(index: 0, plan: plan, start: 0, collector: collector, nodeCount: 3)
        func complete(_ node: Int, key: Int64, at now: UInt64) {
            let op = InFlightOperation(operation: Operation(kind: .read, keyNumber: key, keyLength: 0), intended: now - 10,
                                       sent: now - 10, measured: true)
            core.complete(op, outcome: .ok, now: now, node: node)
        }
        for (node, key) in [(0, 1), (0, 2), (1, 3), (2, 4)] { complete(node, key: Int64(key), at: 100_000_000) }
        core.tick(now: 1_100_000_000)
        complete(1, key: 3, at: 1_200_000_000)
        core.tick(now: 2_500_000_000)
        complete(2, key: 9, at: 2_600_000_000)
        core.finish(now: 2_700_000_000)
        let snapshots = collector.drain().sorted { $0.interval < $1.interval }
        #expect(snapshots.map(\.nodeOperations) == [[2, 1, 1], [0, 1, 0], [0, 0, 1]])
        #expect(snapshots.map(\.final) == [false, false, true])
        let tally = snapshots.last?.nodes
        #expect(tally?.operations == [2, 2, 2])
        #expect(tally?.touched.map(\.count) == [2, 1, 2])
    }
}
