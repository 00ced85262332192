import DequeModule
import KVStorage
import NIOCore

/// One per event loop: gathers the connections of that loop whose replies wait for an fsync
/// (policy `always`). At the end of the tick it asks the storage engine about the newest write the
/// tick made, once: that request is the commit point, so one fsync covers every write of the tick
/// (asking on the first write would start an fsync for that write alone and leave the rest of the
/// tick a whole fsync behind). When the fsync lands, a single hop back to the loop releases every
/// connection it covers: one cross-thread wake-up per loop, not one per connection.
///
/// Confined to its event loop: every method runs on `loop` (checked in debug builds).
final class DurabilityNotifier: @unchecked Sendable {
    typealias Resume = (Result<Void, StorageError>) -> Void

    private let loop: EventLoop
    private let engine: StorageEngine
    /// In the order the loop registered them, which is not always ticket order (a read waits for the
    /// older write it saw); they are released from the front, in that order.
    private var waiters = Deque<(ticket: DurabilityTicket, resume: Resume)>()
    private var requests = CommitRequests()

    init(loop: EventLoop, engine: StorageEngine) {
        self.loop = loop
        self.engine = engine
    }

    /// Calls `resume` on this loop once `ticket` satisfies the fsync policy (or the log failed).
    func wait(for ticket: DurabilityTicket, _ resume: @escaping Resume) {
        loop.assertInEventLoop()
        waiters.append((ticket, resume))
        if requests.note(ticket) { loop.assumeIsolated().execute { [self] in requestCommit() } }
    }

    /// End of tick: one request for the newest waiting write covers all older ones (durability is
    /// monotonic), so every waiter is covered by some request at or after it.
    private func requestCommit() {
        guard let newest = requests.due() else { return }
        let loop = self.loop
        engine.whenAcknowledgeable(newest) { [self] result in
            loop.execute { self.fire(result) }
        }
    }

    private func fire(_ result: Result<Void, StorageError>) {
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
    }
}
