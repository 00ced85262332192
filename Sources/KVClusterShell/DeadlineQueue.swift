import DequeModule
import KVCluster

/// Deadlines of in-flight requests. Every request gets the same timeout, so deadlines arrive in order
/// and a FIFO replaces a timer per request; cancelled entries are skipped when they reach the front.
/// A deadline set out of order fires late (when the ones before it are due), never early.
struct DeadlineQueue {
    private var queue = Deque<(deadline: Tick, id: RequestID)>()
    private var live: [RequestID: Tick] = [:]

    var isEmpty: Bool { live.isEmpty }

    mutating func set(_ id: RequestID, deadline: Tick) {
        live[id] = deadline
        queue.append((deadline, id))
    }

    mutating func cancel(_ id: RequestID) {
        live[id] = nil
    }

    /// Removes and returns the requests due at `now`, oldest first.
    mutating func expired(at now: Tick) -> [RequestID] {
        var due: [RequestID] = []
        while let first = queue.first, first.deadline <= now {
            queue.removeFirst()
            if live[first.id] == first.deadline {
                live[first.id] = nil
                due.append(first.id)
            }
        }
        return due
    }

    /// The earliest deadline still live (drops cancelled entries from the front).
    mutating func nextDeadline() -> Tick? {
        while let first = queue.first, live[first.id] != first.deadline { queue.removeFirst() }
        return queue.first?.deadline
    }

    mutating func removeAll() {
        queue.removeAll()
        live.removeAll()
    }
}
