import NIOCore

/// One per event loop: connections that have replies to send register here, and one task at the end
/// of the loop's current tick flushes them all, after every connection that was readable in that tick
/// has been read and answered (Redis sends its replies the same way, from `beforeSleep`).
///
/// Flushing each connection as soon as its own batch is answered would let the first connections of a
/// tick get their replies, and send again, while later ones still wait: a wider latency spread at the
/// same throughput. Gathered, every client answered in one tick hears back together; the number of
/// write(2) calls is the same.
///
/// Confined to its event loop: every method runs on `loop` (checked in debug builds).
final class ReplyFlusher: @unchecked Sendable {
    /// What a connection does when its turn comes.
    protocol Flushable: AnyObject {
        func flushNow()
    }

    private let loop: EventLoop
    private var pending: [any Flushable] = []
    private var spare: [any Flushable] = []
    private var scheduled = false

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// Flushes `connection` at the end of this tick (once, however often it registers: the caller keeps
    /// a flag so it registers once per tick).
    func enqueue(_ connection: any Flushable) {
        loop.assertInEventLoop()
        pending.append(connection)
        guard !scheduled else { return }
        scheduled = true
        loop.assumeIsolated().execute { [self] in flushAll() }
    }

    private func flushAll() {
        scheduled = false
        swap(&pending, &spare)
        for connection in spare { connection.flushNow() }
        spare.removeAll(keepingCapacity: true)
    }
}
