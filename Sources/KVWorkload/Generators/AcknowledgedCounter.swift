/// YCSB's `AcknowledgedCounterGenerator` semantics for one thread, without a lock: hands out
/// increasing values; `lastAcknowledged` is the highest value v such that every value up to v
/// has been acknowledged, so readers never pick a value whose insert has not completed.
/// Completions may arrive out of order within a window of `windowSize` pending values.
public struct AcknowledgedCounter: Sendable {
    /// The next value `next()` returns.
    public private(set) var nextValue: Int64
    /// Highest value with every value at or below it acknowledged (start − 1 initially).
    public private(set) var lastAcknowledged: Int64
    @usableFromInline var window: [Bool]
    @usableFromInline let mask: Int64

    /// A counter starting at `start`; `windowSize` is rounded up to a power of two.
    public init(start: Int64, windowSize: Int = 1 << 16) {
        nextValue = start
        lastAcknowledged = start - 1
        var size = 1
        while size < windowSize { size <<= 1 }
        window = [Bool](repeating: false, count: size)
        mask = Int64(size - 1)
    }

    /// The number of values handed out but not yet contiguously acknowledged.
    public var pending: Int64 { nextValue - 1 - lastAcknowledged }

    /// Whether `next()` may be called without overflowing the window.
    public var canIssue: Bool { pending < Int64(window.count) }

    public mutating func next() -> Int64 {
        let value = nextValue
        nextValue += 1
        return value
    }

    /// Marks `value` complete. Returns false (and changes nothing) for a value never issued,
    /// already acknowledged, or beyond the window.
    @discardableResult
    public mutating func acknowledge(_ value: Int64) -> Bool {
        guard value > lastAcknowledged, value < nextValue, value - lastAcknowledged <= Int64(window.count) else { return false }
        let slot = Int(value & mask)
        if window[slot] { return false }
        window[slot] = true
        var index = lastAcknowledged + 1
        while index < nextValue, window[Int(index & mask)] {
            window[Int(index & mask)] = false
            index += 1
        }
        lastAcknowledged = index - 1
        return true
    }
}
