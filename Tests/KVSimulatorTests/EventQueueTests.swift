import KVEventQueue
import Testing

@Suite struct EventQueueTests {
    /// Random pushes and interleaved pops against the order the queue promises: earliest time first,
    /// equal times in push order (a stable sort of everything pushed so far).
    @Test func popsInTimeThenPushOrder() {
        var queue = EventQueue<Int>()
        var pending: [(time: UInt64, id: Int)] = []
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ bound: UInt64) -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (state >> 33) % bound
        }
        var popped = 0
        for id in 0..<5_000 {
            let time = random(50)  // few distinct times: many ties
            queue.push(id, at: time)
            pending.append((time, id))
            if random(3) == 0 {
                let expected = pending.enumerated().min { a, b in
                    a.element.time != b.element.time ? a.element.time < b.element.time : a.offset < b.offset
                }!
                #expect(queue.nextTime == expected.element.time)
                let got = queue.pop()
                #expect(got?.time == expected.element.time && got?.item == expected.element.id)
                pending.remove(at: expected.offset)
                popped += 1
            }
        }
        #expect(queue.count == pending.count)
        let rest = pending.enumerated().sorted { a, b in
            a.element.time != b.element.time ? a.element.time < b.element.time : a.offset < b.offset
        }
        for expected in rest {
            let got = queue.pop()
            #expect(got?.time == expected.element.time && got?.item == expected.element.id)
        }
        #expect(queue.isEmpty && queue.pop() == nil && queue.nextTime == nil)
        #expect(popped > 1_000)
    }
}
