@testable import KVClusterShell
import Testing

@Suite("Request deadline queue")
struct DeadlineQueueTests {
    @Test("due requests come out in order; cancelled ones never do; the next deadline skips cancelled ones")
    func expiry() {
        var q = DeadlineQueue()
        q.set(1, deadline: 100)
        q.set(2, deadline: 110)
        q.set(3, deadline: 120)
        q.cancel(1)
        #expect(q.nextDeadline() == 110)
        #expect(q.expired(at: 109).isEmpty)
        #expect(q.expired(at: 115) == [2])
        q.set(3, deadline: 130)  // re-set: the older entry for 3 is stale
        #expect(q.expired(at: 125).isEmpty)
        #expect(q.expired(at: 130) == [3])
        #expect(q.isEmpty && q.nextDeadline() == nil)
    }
}
