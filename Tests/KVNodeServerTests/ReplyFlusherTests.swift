import NIOCore
import NIOPosix
import Testing

@testable import KVNodeServer

@Suite struct ReplyFlusherTests {
    /// Counts flushes; touched only on the loop.
    final class Probe: ReplyFlusher.Flushable, @unchecked Sendable {
        var flushes = 0
        func flushNow() { flushes += 1 }
    }

    @Test func everyRegisteredConnectionIsFlushedOnceAfterTheTickThatRegisteredIt() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let flusher = ReplyFlusher(loop: loop)
        let a = Probe(), b = Probe()
        /// Runs `register` as one task on the loop (a tick's I/O handling) and returns the flush counts
        /// at its end. Tasks run in order, so a task sees every flush task queued before it done.
        func tick(_ register: @escaping @Sendable () -> Void = {}) throws -> [Int] {
            try loop.submit { () -> [Int] in
                register()
                return [a.flushes, b.flushes]
            }.wait()
        }
        // Nothing is flushed while connections register within a tick...
        #expect(try tick { flusher.enqueue(a); flusher.enqueue(b) } == [0, 0])
        // ...and each is flushed once right after it.
        #expect(try tick() == [1, 1])
        // A later tick flushes only what registered in it.
        #expect(try tick { flusher.enqueue(b) } == [1, 1])
        #expect(try tick() == [1, 2])
    }
}
