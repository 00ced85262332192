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
        // Within one task (a tick's I/O handling): nothing is flushed while connections register.
        let during = try loop.submit { () -> [Int] in
            flusher.enqueue(a)
            flusher.enqueue(b)
            return [a.flushes, b.flushes]
        }.wait()
        #expect(during == [0, 0])
        // The next task runs after the flush task the first one queued.
        let after = try loop.submit { [a.flushes, b.flushes] }.wait()
        #expect(after == [1, 1])
        // A later tick flushes only what registered in it.
        let later = try loop.submit { () -> [Int] in
            flusher.enqueue(b)
            return [a.flushes, b.flushes]
        }.wait()
        #expect(later == [1, 1])
        let end = try loop.submit { [a.flushes, b.flushes] }.wait()
        #expect(end == [1, 2])
    }
}
