import KVWorkload

/// Everything a run needs besides the binding: the workload, the phase, threads and pacing.
public struct RunPlan: Sendable {
    public var spec: WorkloadSpec
    public var phase: WorkloadPhase
    /// Worker threads (each with its own operation stream and recorders).
    public var threads: Int
    /// Total offered rate in ops/s over all workers; 0 = closed loop.
    public var targetRate: Double
    /// Measured seconds (after warm-up); 0 = until the operation count is done.
    public var duration: Double
    public var warmup: Warmup
    /// Rate steps (total ops/s); they override `targetRate` and `duration` when present.
    public var phases: [Phase]
    /// The fastest catch-up after a stall, as a multiple of the scheduled rate.
    public var catchUpFactor: Double = 2
    /// Reporting interval (1 s).
    public var intervalNanos: UInt64 = 1_000_000_000
    /// Encode every interval's histograms as interval-log lines (the `.hlog` files an output directory gets).
    /// Off when nothing will write them: the encoding walks each histogram's buckets on the reporter thread,
    /// which shares the machine with the workers.
    public var keepsIntervalLog = true

    /// A plan taking threads, target, duration, warm-up and phases from the spec's properties.
    public init(spec: WorkloadSpec, phase: WorkloadPhase, threads: Int? = nil, targetRate: Double? = nil,
                duration: Double? = nil, warmup: Warmup? = nil) {
        self.spec = spec
        self.phase = phase
        self.threads = max(threads ?? spec.threadCount, 1)
        self.targetRate = targetRate ?? spec.target
        self.duration = duration ?? spec.maxExecutionTime
        self.warmup = warmup ?? spec.warmup
        phases = phase == .run ? spec.phases : []
    }

    /// Operations each worker must issue (after warm-up); 0 = unlimited.
    public func operationLimit(worker: Int) -> Int64 {
        let total = phase == .load ? spec.insertCount : spec.operationCount
        if total == 0 { return 0 }
        let n = Int64(threads), t = Int64(worker)
        return total / n + (t < total % n ? 1 : 0)
    }

    /// Operations of the whole run (0 = unlimited).
    public var totalOperations: Int64 { phase == .load ? spec.insertCount : spec.operationCount }

    /// Warm-up seconds (0 when warm-up is by operation count or none).
    public var warmupSeconds: Double {
        if case .seconds(let s) = warmup { return s }
        return 0
    }

    /// Measured seconds the run lasts at most (0 = no time limit).
    public var timeLimit: Double {
        if !phases.isEmpty { return phases.reduce(0) { $0 + $1.duration } }
        return duration
    }

    /// The offered rate (ops/s, total): the target, or the phases' time-weighted mean rate
    /// (0 when closed loop or when a phase is unthrottled).
    public var offeredRate: Double {
        guard !phases.isEmpty else { return targetRate }
        if phases.contains(where: { $0.startRate == 0 || $0.endRate == 0 }) { return 0 }
        let total = phases.reduce(0) { $0 + $1.duration }
        return total > 0 ? phases.reduce(0) { $0 + $1.duration * ($1.startRate + $1.endRate) / 2 } / total : 0
    }

    /// True when some phase or the target throttles (latency from intended start matters).
    public var isOpenLoop: Bool { targetRate > 0 || phases.contains { $0.startRate > 0 || $0.endRate > 0 } }

    /// Checks the plan can end.
    public func validate() throws(LoadError) {
        if totalOperations == 0 && timeLimit == 0 {
            throw .invalidPlan("nothing bounds this run: set operationcount, maxexecutiontime (or --duration), or phases")
        }
    }
}

/// Errors of the load driver, with a message for the user.
public enum LoadError: Error, CustomStringConvertible, Sendable {
    case invalidPlan(String)
    case binding(String)
    case io(String)
    case badInput(String)

    public var description: String {
        switch self {
        case .invalidPlan(let m): return "invalid run: \(m)"
        case .binding(let m): return "binding: \(m)"
        case .io(let m): return "I/O: \(m)"
        case .badInput(let m): return "bad input: \(m)"
        }
    }
}
