import KVWorkload

/// An operation handed out by a worker, kept until its reply arrives.
public struct InFlightOperation: Sendable {
    public var operation: Operation
    /// Intended start (open loop) or the send time (closed loop), monotonic ns.
    public var intended: UInt64
    /// Actual send, monotonic ns.
    public var sent: UInt64
    /// False during warm-up: not recorded.
    public var measured: Bool
}

/// What a worker should do next.
public enum WorkerStep: Sendable {
    case send(InFlightOperation)
    case wait(until: UInt64)
    case done
}

/// The binding-independent state of one worker: its operation stream, open-loop pacer,
/// warm-up and limits, histograms and interval hand-off. Owned by one thread (or event loop);
/// recording takes no lock. Once per interval the histograms go to the `IntervalCollector`.
public struct WorkerCore {
    public let index: Int
    public var stream: OperationStream
    public var pacer: Pacer
    /// This interval's latencies (handed to the collector as `RecordedLatencies` when the interval closes). A
    /// reference: a core records from one place and is not copied while it runs.
    let recorder = LatencyRecorder()
    public let openLoop: Bool
    let limit: Int64
    let deadline: UInt64
    let warmupUntil: UInt64
    var warmupOperations: Int64
    let intervalNanos: UInt64
    let start: UInt64
    let collector: IntervalCollector
    public private(set) var measuredIssued: Int64 = 0
    public private(set) var inFlight = 0
    var intervalIndex = 0
    var nextIntervalEnd: UInt64
    var intervalScheduled: Int64 = 0
    var nodes: NodeTally
    /// Measured operations per node in the current interval (`nodes_timeseries.csv`). A reference, as `recorder`.
    let intervalNodeOps: IntervalNodeCounts
    /// Error replies by text (`noteErrorReply`).
    public private(set) var errorReplies: [String: Int] = [:]
    var finished = false

    public init(index: Int, plan: RunPlan, start: UInt64, collector: IntervalCollector, nodeCount: Int = 1) {
        self.index = index
        self.start = start
        self.collector = collector
        stream = OperationStream(spec: plan.spec, phase: plan.phase, threadIndex: index, threadCount: plan.threads)
        let perWorker = plan.phases.map { Phase(duration: $0.duration, startRate: $0.startRate / Double(plan.threads),
                                                endRate: $0.endRate / Double(plan.threads)) }
        pacer = Pacer(start: start, rate: plan.targetRate / Double(plan.threads), phases: perWorker, catchUpFactor: plan.catchUpFactor)
        openLoop = plan.isOpenLoop
        limit = plan.operationLimit(worker: index)
        let warm = plan.warmupSeconds
        warmupUntil = start &+ UInt64(warm * 1e9)
        if case .operations(let n) = plan.warmup {
            let t = Int64(plan.threads)
            warmupOperations = n / t + (Int64(index) < n % t ? 1 : 0)
        } else {
            warmupOperations = 0
        }
        let limitSeconds = plan.phases.isEmpty ? (plan.duration > 0 ? warm + plan.duration : 0) : plan.timeLimit
        deadline = limitSeconds > 0 ? start &+ UInt64(limitSeconds * 1e9) : 0
        intervalNanos = plan.intervalNanos
        nextIntervalEnd = start &+ plan.intervalNanos
        nodes = NodeTally(nodeCount: nodeCount)
        intervalNodeOps = IntervalNodeCounts(nodeCount: max(nodeCount, 1))
    }

    /// Calls `body` with the current operation's key, in place (a `mutating` access, so a worker that holds
    /// its core in a class property does not copy the stream to call it).
    @inline(__always)
    public mutating func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try stream.withKey(body)
    }

    /// The next step at `now`. After `.send`, the operation's key is in `stream` until the next call.
    @inline(__always)
    public mutating func next(now: UInt64) -> WorkerStep {
        if now >= nextIntervalEnd { closeInterval(now: now) }
        if finished { return .done }
        if limit > 0, measuredIssued >= limit { return .done }
        if deadline > 0, now >= deadline { return .done }
        if stream.phase == .run, stream.spec.insertProportion > 0, inFlight >= 1 << 15 { return .wait(until: now &+ 100_000) }
        switch pacer.next(now: now) {
        case .finished:
            return .done
        case .wait(let until):
            return .wait(until: deadline > 0 ? min(until, deadline) : until)
        case .send(let intended):
            let operation = stream.next()
            var measured = true
            if warmupOperations > 0 {
                warmupOperations -= 1
                measured = false
            } else if intended < warmupUntil {
                measured = false
            } else {
                measuredIssued += 1
            }
            intervalScheduled += 1
            inFlight += 1
            return .send(InFlightOperation(operation: operation, intended: intended, sent: now, measured: measured))
        }
    }

    /// The latencies recorded in the current interval (built on each call: for tests and reports, not per operation).
    public var histograms: HistogramSet { recorder.histogramSet() }

    /// Records a completed operation (sent to node `node`) at `now`.
    @inline(__always)
    public mutating func complete(_ op: InFlightOperation, outcome: OperationOutcome, now: UInt64, node: Int = 0) {
        complete(kind: op.operation.kind, keyNumber: op.operation.keyNumber, intended: op.intended, sent: op.sent,
                 measured: op.measured, outcome: outcome, now: now, node: node)
    }

    /// `complete(_:outcome:now:node:)` from the fields a completion reads, for a caller that keeps only those
    /// (a pipeline slot) and need not assemble an `InFlightOperation` per reply.
    @inline(__always)
    mutating func complete(kind: OperationKind, keyNumber: Int64, intended: UInt64, sent: UInt64, measured: Bool,
                           outcome: OperationOutcome, now: UInt64, node: Int) {
        inFlight -= 1
        if kind == .insert, stream.phase == .run { stream.acknowledgeInsert(keyNumber: keyNumber) }
        if measured {
            let slot = HistogramSlot(kind: kind, outcome: outcome, measure: .service).index
            recorder.record(now &- sent, in: slot)
            if openLoop { recorder.record(now &- intended, in: slot + 1) }
            nodes.touch(node: node, keyNumber: keyNumber)
            intervalNodeOps.add(node: node)  // folded into `nodes` when the interval closes
        }
        if now >= nextIntervalEnd { closeInterval(now: now) }
    }

    /// Hands the current interval's histograms to the collector if its end has passed.
    public mutating func tick(now: UInt64) {
        if now >= nextIntervalEnd { closeInterval(now: now) }
    }

    mutating func closeInterval(now: UInt64) {
        while now >= nextIntervalEnd {
            var snapshot = IntervalSnapshot(worker: index, interval: intervalIndex, histograms: HistogramSet(),
                                            scheduled: intervalScheduled, final: false)
            snapshot.recorded = recorder.take()
            snapshot.nodeOperations = intervalNodeOps.take()
            nodes.addOperations(snapshot.nodeOperations)
            collector.deliver(snapshot)
            intervalScheduled = 0
            intervalIndex += 1
            nextIntervalEnd &+= intervalNanos
        }
    }

    /// Delivers the last partial interval and the node tally; the worker then stops.
    public mutating func finish(now: UInt64) {
        guard !finished else { return }
        closeInterval(now: now)
        finished = true
        let lastNodeOperations = intervalNodeOps.take()
        nodes.addOperations(lastNodeOperations)
        var last = IntervalSnapshot(worker: index, interval: intervalIndex, histograms: HistogramSet(),
                                    scheduled: intervalScheduled, final: true, nodes: nodes, endTime: now)
        last.errorReplies = errorReplies
        last.nodeOperations = lastNodeOperations
        last.recorded = recorder.take()
        collector.deliver(last)
    }

    /// Counts an error reply by its text (at most 100 characters, at most 16 distinct texts; the rest
    /// count as "(other errors)"), so a run says why operations failed, not only how many.
    public mutating func noteErrorReply(_ text: String) {
        let key = String(text.prefix(100))
        if errorReplies[key] != nil || errorReplies.count < 16 {
            errorReplies[key, default: 0] += 1
        } else {
            errorReplies["(other errors)", default: 0] += 1
        }
    }
}

/// One interval's operation counts per node, in fixed memory the worker owns: counting an operation is an
/// increment, with no copy-on-write check of an array (one per operation showed in profiles).
final class IntervalNodeCounts {
    let nodeCount: Int
    private let counts: UnsafeMutablePointer<Int64>

    init(nodeCount: Int) {
        self.nodeCount = nodeCount
        counts = .allocate(capacity: nodeCount)
        counts.initialize(repeating: 0, count: nodeCount)
    }

    deinit { counts.deallocate() }

    /// Counts one operation of `node` (0..<nodeCount).
    @inline(__always)
    func add(node: Int) {
        precondition(UInt(bitPattern: node) < UInt(bitPattern: nodeCount), "node \(node) out of range")
        counts[node] &+= 1
    }

    /// The counts so far (index = node), which start again from zero.
    func take() -> [Int64] {
        let taken = Array(UnsafeBufferPointer(start: counts, count: nodeCount))
        counts.update(repeating: 0, count: nodeCount)
        return taken
    }
}

/// Per-node operation counts and the set of keynums each node saw (for `nodes.csv`).
public struct NodeTally: Sendable {
    public private(set) var operations: [Int64]
    public private(set) var touched: [KeySet]

    public init(nodeCount: Int) {
        operations = Array(repeating: 0, count: max(nodeCount, 1))
        touched = Array(repeating: KeySet(), count: max(nodeCount, 1))
    }

    /// Notes that `node` saw `keyNumber`, without counting an operation: a worker counts its operations per
    /// interval and adds them with `addOperations` when the interval closes (one counter per op, not two).
    @inline(__always)
    mutating func touch(node: Int, keyNumber: Int64) {
        // Tested first: once a run has seen most keys, the read alone makes no copy-on-write checks.
        if !touched[node].contains(keyNumber) { touched[node].insert(keyNumber) }
    }

    /// Adds per-node operation counts (index = node).
    mutating func addOperations(_ counts: [Int64]) {
        for i in 0..<min(operations.count, counts.count) { operations[i] += counts[i] }
    }

    public mutating func add(_ other: NodeTally) {
        addOperations(other.operations)
        for i in 0..<min(touched.count, other.touched.count) { touched[i].formUnion(other.touched[i]) }
    }
}

/// A growable bitmap of non-negative keynums.
public struct KeySet: Sendable {
    var words: [UInt64] = []

    public init() {}

    @inline(__always)
    public mutating func insert(_ key: Int64) {
        guard key >= 0 else { return }
        let word = Int(key >> 6)
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: max(word + 1 - words.count, words.count))) }
        words[word] |= 1 << UInt64(key & 63)
    }

    @inline(__always)
    public func contains(_ key: Int64) -> Bool {
        let word = Int(key >> 6)
        return key >= 0 && word < words.count && words[word] & (1 << UInt64(key & 63)) != 0
    }

    public mutating func formUnion(_ other: KeySet) {
        if other.words.count > words.count { words.append(contentsOf: repeatElement(0, count: other.words.count - words.count)) }
        for i in 0..<other.words.count { words[i] |= other.words[i] }
    }

    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
}
