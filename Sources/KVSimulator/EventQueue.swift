/// A min-heap of timed items; equal times pop in insertion order (so runs are deterministic).
struct EventQueue<Item> {
    private var heap: [(time: UInt64, seq: UInt64, item: Item)] = []
    private var seq: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var nextTime: UInt64? { heap.first?.time }

    mutating func push(_ item: Item, at time: UInt64) {
        seq += 1
        heap.append((time, seq, item))
        var i = heap.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if less(i, p) { heap.swapAt(i, p); i = p } else { break }
        }
    }

    mutating func pop() -> (time: UInt64, item: Item)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && less(l, m) { m = l }
            if r < heap.count && less(r, m) { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
        return (top.time, top.item)
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        heap[a].time != heap[b].time ? heap[a].time < heap[b].time : heap[a].seq < heap[b].seq
    }
}
