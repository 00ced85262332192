import Histogram
import KVWorkload

/// How one operation ended, as the binding reports it.
public enum OperationOutcome: UInt8, Sendable, CaseIterable {
    case ok, notFound, error, timeout

    /// YCSB's `Return=` status name.
    public var ycsbStatus: String {
        switch self {
        case .ok: return "OK"
        case .notFound: return "NOT_FOUND"
        case .error: return "ERROR"
        case .timeout: return "TIMEOUT"
        }
    }

    /// True for outcomes counted in the `errors` columns.
    public var isError: Bool { self == .error || self == .timeout }
}

/// Which latency a histogram holds.
public enum LatencyMeasure: UInt8, Sendable, CaseIterable {
    /// From the actual send to the reply: the service time (what closed-loop tools report).
    case service
    /// From the intended start (the schedule) to the reply: corrected for coordinated omission.
    case intended

    /// Prefix of report names (`READ` vs YCSB's `Intended-READ`).
    public func name(of kind: OperationKind) -> String {
        self == .service ? kind.ycsbName : "Intended-" + kind.ycsbName
    }
}

/// The histogram type of every recorder: nanoseconds, 1 ns to 1 hour, 3 significant digits.
public typealias LatencyHistogram = Histogram<UInt64>

extension Histogram where Count == UInt64 {
    /// Highest recordable latency (1 hour in ns); longer values are clamped to it.
    public static var latencyHighestTrackable: UInt64 { 3_600_000_000_000 }

    /// An empty latency histogram (ns, 1 ns…1 h, 3 significant digits).
    public static func latency() -> LatencyHistogram {
        LatencyHistogram(lowestDiscernibleValue: 1, highestTrackableValue: latencyHighestTrackable,
                         numberOfSignificantValueDigits: .three)
    }
}

/// Index of one histogram slot: operation kind × outcome × measure, flattened.
public struct HistogramSlot: Hashable, Sendable, Comparable {
    public var kind: OperationKind
    public var outcome: OperationOutcome
    public var measure: LatencyMeasure

    public init(kind: OperationKind, outcome: OperationOutcome, measure: LatencyMeasure) {
        self.kind = kind
        self.outcome = outcome
        self.measure = measure
    }

    public static let count = OperationKind.allCases.count * OperationOutcome.allCases.count * LatencyMeasure.allCases.count

    @inline(__always)
    public var index: Int {
        (Int(kind.rawValue) * OperationOutcome.allCases.count + Int(outcome.rawValue)) * LatencyMeasure.allCases.count
            + Int(measure.rawValue)
    }

    public init(index: Int) {
        let measures = LatencyMeasure.allCases.count, outcomes = OperationOutcome.allCases.count
        measure = LatencyMeasure(rawValue: UInt8(index % measures))!
        outcome = OperationOutcome(rawValue: UInt8((index / measures) % outcomes))!
        kind = OperationKind(rawValue: UInt8(index / (measures * outcomes)))!
    }

    public static func < (a: HistogramSlot, b: HistogramSlot) -> Bool { a.index < b.index }
}

/// A set of histograms indexed by `HistogramSlot`, created on first use (only slots that
/// happen cost memory). Value type: one owner at a time.
public struct HistogramSet: Sendable {
    public private(set) var slots: [LatencyHistogram?]
    /// Bit i is set when `slots[i]` holds a histogram: testing it is cheaper than testing the Optional,
    /// which copies the histogram struct out to compare it with nil.
    private var created: UInt64 = 0
    /// Exact sum of the values recorded in each slot (ns), so a mean needs no walk over the buckets and
    /// is exact rather than bucket-rounded. Valid for slot i while bit i of `summed` is set: a histogram
    /// set from outside (read back from an interval log) comes without one.
    /// Stored inline (one slot per bit of `created`), so adding to a sum per operation makes no copy-on-write
    /// uniqueness check.
    private var sums = InlineArray<64, UInt64>(repeating: 0)
    private var summed: UInt64 = 0

    public init() {
        precondition(HistogramSlot.count <= 64, "HistogramSet.created has one bit per slot")
        slots = Array(repeating: nil, count: HistogramSlot.count)
    }

    /// Records `nanoseconds` (clamped to the trackable range) in `slot`.
    @inline(__always)
    public mutating func record(_ nanoseconds: UInt64, in slot: Int) {
        let value = Swift.min(Swift.max(nanoseconds, 1), LatencyHistogram.latencyHighestTrackable)
        // Record in place through the array's buffer: no copy of the histogram struct (moving it out and
        // back, as this did before, copied its ~100 bytes twice per operation), no Optional get/set.
        if created & (1 << UInt64(slot)) == 0 {
            created |= 1 << UInt64(slot)
            summed |= 1 << UInt64(slot)
            slots[slot] = .latency()
        }
        slots.withUnsafeMutableBufferPointer { _ = $0[slot]!.record(value) }
        sums[slot] &+= value
    }

    public subscript(slot: HistogramSlot) -> LatencyHistogram? {
        get { slots[slot.index] }
        set {
            if newValue == nil { created &= ~(1 << UInt64(slot.index)) } else { created |= 1 << UInt64(slot.index) }
            summed &= ~(1 << UInt64(slot.index))
            sums[slot.index] = 0
            slots[slot.index] = newValue
        }
    }

    /// Puts `histogram` in `slot` (a `HistogramSlot.index`) with the exact sum of its values.
    public mutating func set(_ histogram: LatencyHistogram, sum: UInt64, in slot: Int) {
        let bit: UInt64 = 1 << UInt64(slot)
        slots[slot] = histogram
        created |= bit
        summed |= bit
        sums[slot] = sum
    }

    /// Adds every histogram of `other` (lossless).
    public mutating func add(_ other: HistogramSet) {
        for i in 0..<slots.count {
            guard let h = other.slots[i] else { continue }
            let bit: UInt64 = 1 << UInt64(i)
            if slots[i] == nil {
                slots[i] = h
                created |= bit
                summed = (summed & ~bit) | (other.summed & bit)
                sums[i] = other.sums[i]
            } else {
                slots[i]!.add(h)
                summed &= other.summed | ~bit
                sums[i] &+= other.sums[i]
            }
        }
    }

    /// Count, exact mean (when every merged slot has its sum; else the histogram's bucket-based mean),
    /// min, percentiles and max of the merge of the given slots.
    public func stats(kinds: [OperationKind] = OperationKind.allCases, outcomes: [OperationOutcome] = OperationOutcome.allCases,
                      measure: LatencyMeasure) -> LatencyStats {
        var sum: UInt64 = 0
        var exact = true
        for kind in kinds {
            for outcome in outcomes {
                let i = HistogramSlot(kind: kind, outcome: outcome, measure: measure).index
                guard created & (1 << UInt64(i)) != 0 else { continue }
                sum &+= sums[i]
                exact = exact && summed & (1 << UInt64(i)) != 0
            }
        }
        return LatencyStats(merged(kinds: kinds, outcomes: outcomes, measure: measure), sum: exact ? sum : nil)
    }

    /// True when nothing was recorded.
    public var isEmpty: Bool { slots.allSatisfy { ($0?.totalCount ?? 0) == 0 } }

    /// The merge of the given slots (nil when none holds a value).
    public func merged(kinds: [OperationKind] = OperationKind.allCases, outcomes: [OperationOutcome] = OperationOutcome.allCases,
                       measure: LatencyMeasure) -> LatencyHistogram? {
        var result: LatencyHistogram?
        for kind in kinds {
            for outcome in outcomes {
                guard let h = slots[HistogramSlot(kind: kind, outcome: outcome, measure: measure).index] else { continue }
                if result == nil { result = h } else { result!.add(h) }
            }
        }
        return result
    }

    /// Operation kinds with at least one recorded value.
    public var kindsPresent: [OperationKind] {
        OperationKind.allCases.filter { kind in
            OperationOutcome.allCases.contains { outcome in
                LatencyMeasure.allCases.contains { (slots[HistogramSlot(kind: kind, outcome: outcome, measure: $0).index]?.totalCount ?? 0) > 0 }
            }
        }
    }

    /// Number of operations of `kind` ending in `outcome` (service measure counts every op).
    public func count(_ kind: OperationKind, _ outcome: OperationOutcome) -> UInt64 {
        slots[HistogramSlot(kind: kind, outcome: outcome, measure: .service).index]?.totalCount ?? 0
    }
}
