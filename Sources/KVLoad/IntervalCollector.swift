#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import KVWorkload

/// One worker's histograms for one interval (or its final partial interval).
public struct IntervalSnapshot: Sendable {
    public var worker: Int
    public var interval: Int
    public var histograms: HistogramSet
    /// Operations the worker started in the interval (the offered load).
    public var scheduled: Int64
    public var final: Bool
    public var nodes: NodeTally?
    public var endTime: UInt64 = 0
    /// Measured operations per node in this interval.
    public var nodeOperations: [Int64] = []
    /// Error replies the worker saw, by text (final snapshot only; see `WorkerCore.noteErrorReply`).
    public var errorReplies: [String: Int] = [:]
    /// The interval's latencies as the worker recorded them, not yet histograms: `IntervalCollector.drain`
    /// (the reporter's thread) adds them to `histograms`.
    public var recorded: RecordedLatencies?

    public init(worker: Int, interval: Int, histograms: HistogramSet, scheduled: Int64, final: Bool,
                nodes: NodeTally? = nil, endTime: UInt64 = 0) {
        self.worker = worker
        self.interval = interval
        self.histograms = histograms
        self.scheduled = scheduled
        self.final = final
        self.nodes = nodes
        self.endTime = endTime
    }
}

/// The mailbox between workers and the reporter. Workers deliver once per interval (the
/// only locked step, off the per-operation path); the reporter drains.
public final class IntervalCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [IntervalSnapshot] = []

    public init() {}

    public func deliver(_ snapshot: IntervalSnapshot) {
        lock.lock()
        pending.append(snapshot)
        lock.unlock()
    }

    /// Takes every snapshot delivered so far, with recorded latencies turned into histograms (here, on the
    /// caller's thread, outside the lock).
    public func drain() -> [IntervalSnapshot] {
        lock.lock()
        var all = pending
        pending.removeAll(keepingCapacity: true)
        lock.unlock()
        for i in all.indices {
            guard let recorded = all[i].recorded else { continue }
            all[i].histograms.add(recorded.histogramSet())
            all[i].recorded = nil
        }
        return all
    }
}
