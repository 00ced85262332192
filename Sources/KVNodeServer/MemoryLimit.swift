import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `--maxmemory`: refuses commands that add data (those flagged `denyoom`) once the store's memory
/// is at or above the limit, with Redis's `OOM` error; reads and deletes keep working.
///
/// The figure compared is the dataset's memory (keys, values and index: what `INFO memory` reports as
/// `used_memory_dataset`), read through `measure`. Reading it takes every shard lock briefly, so it
/// is cached and re-read at most once per `refreshNanos`; a delete or flush marks the cache stale so
/// writes resume as soon as space is freed. Writes may overshoot the limit by what arrives within one
/// refresh interval.
public final class MemoryLimit: Sendable {
    /// Redis's text for a refused write (sent as `-OOM ...`).
    public static let errorMessage = "OOM command not allowed when used memory > 'maxmemory'."

    /// The limit in bytes; nil means none.
    public let maxBytes: Int?
    private let refreshNanos: UInt64
    private let measure: @Sendable () -> Int
    private let now: @Sendable () -> UInt64
    private let cachedBytes = Atomic<Int>(0)
    /// Monotonic time from which the cached figure is stale (0: stale now).
    private let staleAt = Atomic<UInt64>(0)

    /// A limit of `maxBytes` over the figure `measure` returns, re-read at most every `refreshNanos`
    /// of `now` (monotonic nanoseconds).
    public init(
        maxBytes: Int?,
        refreshNanos: UInt64 = 2_000_000,
        now: @escaping @Sendable () -> UInt64 = MemoryLimit.monotonicNanos,
        measure: @escaping @Sendable () -> Int
    ) {
        self.maxBytes = maxBytes
        self.refreshNanos = refreshNanos
        self.now = now
        self.measure = measure
    }

    /// True when a command that adds data must be refused. Free when no limit is set.
    @inline(__always)
    public func refusesWrites() -> Bool {
        guard let maxBytes else { return false }
        return usedBytes() >= maxBytes
    }

    /// The (cached) figure compared with the limit.
    public func usedBytes() -> Int {
        let t = now()
        if t >= staleAt.load(ordering: .relaxed) {
            let bytes = measure()
            cachedBytes.store(bytes, ordering: .relaxed)
            staleAt.store(t &+ refreshNanos, ordering: .relaxed)
            return bytes
        }
        return cachedBytes.load(ordering: .relaxed)
    }

    /// Forces the next check to re-read the figure (after memory was freed).
    @inline(__always)
    public func invalidate() {
        if maxBytes != nil { staleAt.store(0, ordering: .relaxed) }
    }

    /// CLOCK_MONOTONIC_COARSE in nanoseconds (cheap; a few ms of resolution is plenty here).
    public static let monotonicNanos: @Sendable () -> UInt64 = {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// Memory sizes as Redis writes them in its configuration: plain bytes, or a number with `k`/`m`/`g`
/// (powers of 1000) or `kb`/`mb`/`gb` (powers of 1024), case-insensitive: `100mb`, `2gb`, `512kb`.
public enum MemorySize {
    /// The size in bytes, or nil for anything else (negative, empty, unknown unit, overflow).
    public static func parse(_ text: String) -> Int? {
        let lowered = text.lowercased()
        let units: [(String, Int)] = [("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30), ("k", 1000), ("m", 1_000_000),
                                      ("g", 1_000_000_000), ("b", 1)]
        var digits = Substring(lowered)
        var scale = 1
        for (suffix, factor) in units where lowered.hasSuffix(suffix) {
            digits = lowered.dropLast(suffix.count)
            scale = factor
            break
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(digits) else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: scale)
        return overflow ? nil : bytes
    }
}
