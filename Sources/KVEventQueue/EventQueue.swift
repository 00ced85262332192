import HeapModule

/// The timeline of a discrete-event simulation: items due at virtual times, popped earliest first, and
/// items due at the same time in the order they were pushed, so a run replays exactly from its seed.
/// Both simulators (the cluster's, `KVSimulator`, and the membership protocol's) keep their pending
/// deliveries and timers in one. A min-heap from swift-collections underneath.
public struct EventQueue<Item> {
    private var heap = Heap<Entry>()
    private var pushed: UInt64 = 0

    public init() {}

    public var isEmpty: Bool { heap.isEmpty }
    public var count: Int { heap.count }
    /// When the earliest item is due (nil when empty).
    public var nextTime: UInt64? { heap.min?.time }

    public mutating func push(_ item: Item, at time: UInt64) {
        pushed += 1
        heap.insert(Entry(time: time, order: pushed, item: item))
    }

    /// Removes and returns the earliest item (the first pushed among equally early ones).
    public mutating func pop() -> (time: UInt64, item: Item)? {
        heap.popMin().map { ($0.time, $0.item) }
    }

    /// Ordered by (time, push order): a total order, so ties never depend on the heap's layout.
    private struct Entry: Comparable {
        let time: UInt64
        let order: UInt64
        let item: Item

        static func < (a: Entry, b: Entry) -> Bool {
            a.time != b.time ? a.time < b.time : a.order < b.order
        }

        static func == (a: Entry, b: Entry) -> Bool { a.time == b.time && a.order == b.order }
    }
}
