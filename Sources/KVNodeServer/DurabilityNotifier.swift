import DequeModule
import KVStorage
import NIOCore

/// One per event loop: gathers the connections of that loop whose replies wait for an fsync
/// (policy `always`) and asks the storage engine about only the oldest of them. When that fsync
/// lands, a single hop back to the loop releases every connection it covers, so a group commit
/// costs one cross-thread wake-up per loop instead of one per connection.
///
/// Confined to its event loop: every method runs on `loop` (checked in debug builds).
final class DurabilityNotifier: @unchecked Sendable {
    typealias Resume = (Result<Void, StorageError>) -> Void

    private let loop: EventLoop
    private let engine: StorageEngine
    /// In ticket order: tickets grow monotonically and a loop registers them in the order it makes them.
    private var waiters = Deque<(ticket: DurabilityTicket, resume: Resume)>()
    private var armed = false

    init(loop: EventLoop, engine: StorageEngine) {
        self.loop = loop
        self.engine = engine
    }

    /// Calls `resume` on this loop once `ticket` satisfies the fsync policy (or the log failed).
    func wait(for ticket: DurabilityTicket, _ resume: @escaping Resume) {
        loop.assertInEventLoop()
        waiters.append((ticket, resume))
        armIfNeeded()
    }

    private func armIfNeeded() {
        guard !armed, let oldest = waiters.first else { return }
        armed = true
        let loop = self.loop
        engine.whenAcknowledgeable(oldest.ticket) { [self] result in
            loop.execute { self.fire(result) }
        }
    }

    private func fire(_ result: Result<Void, StorageError>) {
        armed = false
        if case .failure = result {
            let all = waiters
            waiters.removeAll()
            for w in all { w.resume(result) }
            return
        }
        var ready: [Resume] = []
        while let first = waiters.first, engine.isAcknowledgeable(first.ticket) {
            ready.append(waiters.removeFirst().resume)
        }
        for resume in ready { resume(.success(())) }
        armIfNeeded()
    }
}
