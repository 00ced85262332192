import Histogram

/// Where a worker records latencies between interval hand-offs: per `HistogramSlot`, counts in the bucket
/// layout of `LatencyHistogram` (HdrHistogram's, for 1 ns…1 h at 3 significant digits), in flat memory the
/// recorder owns and reuses. They become hdrhistogram-swift histograms losslessly (`RecordedLatencies`): every
/// count lands in the bucket it would have had, each slot's exact min and max are recorded as themselves, and
/// each slot's exact sum goes along.
///
/// Why not `Histogram.record` per operation: on the load path it cost ~90 instructions per value (a copy of the
/// histogram struct, a copy-on-write check of its counts, index helpers that are not inlined, overflow checks)
/// and a new 270 KB histogram per slot per interval. Here it is an index computation and an increment.
///
/// One owner (a worker, on one thread); a class so its memory is freed with it. Not for sharing. A worker
/// hands its interval over with `take()`, a copy of the counts it touched, and the collector's thread builds the
/// histograms (`RecordedLatencies.histogramSet()`): creating a 33,792-bucket histogram per slot costs ~0.5 M
/// instructions, which on the event loop would stall every connection once per interval.
public final class LatencyRecorder {
    /// Sub-buckets per bucket half: 2^10 (3 significant digits need 2,000 values at unit resolution, so 2^11
    /// sub-buckets, of which each bucket after the first uses the upper half).
    @usableFromInline static let halfMagnitude = 10
    /// `64 - unitMagnitude (0, for a lowest discernible value of 1) - subBucketCountMagnitude (11)`.
    @usableFromInline static let leadingZeroBase = 53
    @usableFromInline static let subBucketMask: UInt64 = (1 << 11) - 1
    /// Buckets up to `latencyHighestTrackable` (2^11 · 2^31 > 3.6·10^12 ns): counts per slot.
    static let countsLength = (32 + 1) << halfMagnitude

    /// Per-slot totals, kept beside the counts so a hand-off needs no walk to find them.
    @usableFromInline struct SlotTotals {
        @usableFromInline var count: UInt64 = 0
        @usableFromInline var sum: UInt64 = 0
        @usableFromInline var min: UInt64 = .max
        @usableFromInline var max: UInt64 = 0
        @usableFromInline var lowestIndex = Int.max
        @usableFromInline var highestIndex = -1
        @usableFromInline init() {}
    }

    /// Counts of slot i, allocated on its first value (nil until then).
    @usableFromInline let counts: UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>
    @usableFromInline let totals: UnsafeMutablePointer<SlotTotals>

    public init() {
        precondition(Self.layoutMatchesHistogram, "LatencyRecorder's bucket layout differs from LatencyHistogram's")
        counts = .allocate(capacity: HistogramSlot.count)
        counts.initialize(repeating: nil, count: HistogramSlot.count)
        totals = .allocate(capacity: HistogramSlot.count)
        totals.initialize(repeating: SlotTotals(), count: HistogramSlot.count)
    }

    deinit {
        for i in 0..<HistogramSlot.count { counts[i]?.deallocate() }
        counts.deallocate()
        totals.deallocate()
    }

    /// The counts index of `value` (1…`latencyHighestTrackable`), as HdrHistogram computes it: the bucket is
    /// how many doublings `value` lies above the first bucket's range, the sub-bucket its top bits.
    @inlinable @inline(__always)
    static func index(of value: UInt64) -> Int {
        let bucket = leadingZeroBase &- (value | subBucketMask).leadingZeroBitCount
        return ((bucket &+ 1) << halfMagnitude) &+ Int(truncatingIfNeeded: value >> UInt64(bucket)) &- (1 << halfMagnitude)
    }

    /// The lowest value whose counts index is `index`.
    static func lowestValue(at index: Int) -> UInt64 {
        var bucket = (index >> halfMagnitude) - 1
        var subBucket = (index & ((1 << halfMagnitude) - 1)) + (1 << halfMagnitude)
        if bucket < 0 {
            subBucket -= 1 << halfMagnitude
            bucket = 0
        }
        return UInt64(subBucket) << UInt64(bucket)
    }

    /// Records `nanoseconds` (clamped to 1…1 h, as `HistogramSet.record`) in `slot` (a `HistogramSlot.index`).
    @inlinable @inline(__always)
    public func record(_ nanoseconds: UInt64, in slot: Int) {
        let value = Swift.min(Swift.max(nanoseconds, 1), LatencyHistogram.latencyHighestTrackable)
        let i = Self.index(of: value)
        let t = totals + slot
        if t.pointee.count == 0 { startSlot(slot) }
        counts[slot].unsafelyUnwrapped[i] &+= 1
        t.pointee.count &+= 1
        t.pointee.sum &+= value
        if value < t.pointee.min { t.pointee.min = value }
        if value > t.pointee.max { t.pointee.max = value }
        if i < t.pointee.lowestIndex { t.pointee.lowestIndex = i }
        if i > t.pointee.highestIndex { t.pointee.highestIndex = i }
    }

    /// Gives `slot` its (zeroed) counts on its first value.
    @usableFromInline
    func startSlot(_ slot: Int) {
        guard counts[slot] == nil else { return }
        let storage = UnsafeMutablePointer<UInt64>.allocate(capacity: Self.countsLength)
        storage.initialize(repeating: 0, count: Self.countsLength)
        counts[slot] = storage
    }

    /// True when nothing was recorded since the last `reset`.
    public var isEmpty: Bool { (0..<HistogramSlot.count).allSatisfy { totals[$0].count == 0 } }

    /// The values recorded since the last `reset`, as histograms (with exact sums) in a `HistogramSet`.
    public func histogramSet() -> HistogramSet { recorded().histogramSet() }

    /// The values recorded since the last `reset`, and a `reset`: the interval hand-off.
    public func take() -> RecordedLatencies {
        defer { reset() }
        return recorded()
    }

    /// A copy of the counts of every slot used, from its lowest to its highest bucket touched.
    func recorded() -> RecordedLatencies {
        var slots: [RecordedLatencies.Slot] = []
        for slot in 0..<HistogramSlot.count where totals[slot].count > 0 {
            let t = totals[slot]
            guard let c = counts[slot] else { continue }
            let range = UnsafeBufferPointer(start: c + t.lowestIndex, count: t.highestIndex - t.lowestIndex + 1)
            slots.append(RecordedLatencies.Slot(slot: slot, lowestIndex: t.lowestIndex, counts: Array(range), count: t.count,
                                                sum: t.sum, min: t.min, max: t.max))
        }
        return RecordedLatencies(slots: slots)
    }

    /// Forgets every value (the counts' memory stays for the next interval).
    public func reset() {
        for slot in 0..<HistogramSlot.count where totals[slot].count > 0 {
            let t = totals[slot]
            if let c = counts[slot] { (c + t.lowestIndex).update(repeating: 0, count: t.highestIndex - t.lowestIndex + 1) }
            totals[slot] = SlotTotals()
        }
    }

    /// Whether `h` has this layout, so that counts index `i` of the recorder is bucket `i` of `h` for every value
    /// `h` holds. HdrHistogram's buckets depend only on the lowest discernible value and the significant digits;
    /// the highest trackable value only sets how many there are.
    static func sharesLayout(_ h: LatencyHistogram) -> Bool {
        layoutMatchesHistogram && h.lowestDiscernibleValue == 1 && h.numberOfSignificantValueDigits == .three
    }

    /// Checked once per process: this layout and `LatencyHistogram`'s agree on the range of values that share
    /// each bucket, for bucket edges in every bucket and the ends of the trackable range.
    static let layoutMatchesHistogram: Bool = {
        let h = LatencyHistogram.latency()
        var probes: [UInt64] = [1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, LatencyHistogram.latencyHighestTrackable]
        for shift in 11..<42 {
            let base: UInt64 = 1 << UInt64(shift)
            probes += [base - 1, base, base + 1, base + base / 3]
        }
        return probes.allSatisfy { v in
            let i = index(of: v)
            return i >= 0 && i < countsLength && lowestValue(at: i) == h.lowestEquivalentForValue(v)
                && index(of: h.highestEquivalentForValue(v)) == i
                && (i + 1 == countsLength || lowestValue(at: i + 1) == h.highestEquivalentForValue(v) + 1)
        }
    }()
}

/// One interval's latencies as a worker recorded them (`LatencyRecorder.take`): per slot used, the bucket counts
/// it touched and the exact count, sum, min and max. Turned into histograms off the worker's thread.
public struct RecordedLatencies: Sendable {
    /// One `HistogramSlot`'s counts, from bucket `lowestIndex` on.
    public struct Slot: Sendable {
        public var slot: Int
        public var lowestIndex: Int
        public var counts: [UInt64]
        public var count: UInt64
        public var sum: UInt64
        public var min: UInt64
        public var max: UInt64
    }

    public var slots: [Slot]

    /// The histograms, with exact sums: each bucket's count is recorded at the bucket's lowest value, except one
    /// count each of the exact min and max, so every count lands in its own bucket and min and max stay exact.
    public func histogramSet() -> HistogramSet {
        var set = HistogramSet()
        for s in slots where s.count > 0 {
            var h = LatencyHistogram.latency()
            let minIndex = LatencyRecorder.index(of: s.min), maxIndex = LatencyRecorder.index(of: s.max)
            for (offset, stored) in s.counts.enumerated() {
                let i = s.lowestIndex + offset
                var n = stored
                if i == minIndex { n -= 1 }
                if i == maxIndex, s.count > 1 { n -= 1 }
                if n > 0 { h.record(LatencyRecorder.lowestValue(at: i), count: n) }
            }
            h.record(s.min)
            if s.count > 1 { h.record(s.max) }
            set.set(h, sum: s.sum, in: s.slot)
        }
        return set
    }
}
