import KVClusterShell
import Testing

/// The decoded-object cache's eviction policy: bounded, never stale, and a key in use outlives a stream
/// of one-off keys.
@Suite struct ClockCacheTests {
    @Test func staysWithinCapacityAndKeepsTheNewestEntry() {
        var cache = ClockCache<Int, Int>(capacity: 8)
        for k in 0..<1000 { cache.setValue(k * 10, for: k) }
        #expect(cache.count == 8)
        #expect(cache.value(for: 999) == 9990)
        #expect(Set(cache.keys).isSubset(of: Set(0..<1000)))
    }

    @Test func aReadEntryGetsASecondChance() {
        var cache = ClockCache<String, Int>(capacity: 4)
        for (i, k) in ["a", "b", "c", "d"].enumerated() { cache.setValue(i, for: k) }
        #expect(cache.value(for: "a") == 0)
        cache.setValue(4, for: "e")
        // The hand passes "a" (referenced: spared, bit cleared) and evicts "b", the oldest unused entry.
        #expect(Set(cache.keys) == ["a", "c", "d", "e"])
        cache.setValue(5, for: "f")
        #expect(Set(cache.keys) == ["a", "d", "e", "f"])
        cache.setValue(6, for: "g")
        #expect(Set(cache.keys) == ["a", "e", "f", "g"])
        cache.setValue(7, for: "h")
        // The hand is back at "a": not read since the hand cleared its bit, it goes now.
        #expect(Set(cache.keys) == ["e", "f", "g", "h"])
    }

    @Test func keysInUseOutliveAStreamOfOneOffKeys() {
        var cache = ClockCache<Int, Int>(capacity: 16)
        let hot = 0..<4
        for k in hot { cache.setValue(k, for: k) }
        for cold in 100..<10_100 {
            cache.setValue(cold, for: cold)
            for k in hot { #expect(cache.value(for: k) == k) }
        }
        #expect(cache.count == 16)
    }

    @Test func agreesWithAPlainDictionaryUnderRandomOperations() {
        var cache = ClockCache<Int, Int>(capacity: 32)
        var model: [Int: Int] = [:]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var hits = 0
        for step in 0..<50_000 {
            let key = next(200)
            switch next(10) {
            case 0..<5:
                cache.setValue(step, for: key)
                model[key] = step
            case 5..<9:
                if let cached = cache.value(for: key) {
                    #expect(cached == model[key])  // never stale, never a removed key
                    hits += 1
                }
            default:
                cache.removeValue(for: key)
                model[key] = nil
            }
            #expect(cache.count <= 32)
        }
        #expect(hits > 1000)  // the cache does serve: 32 of ~200 live keys, read 40 % of the time
        for key in cache.keys { #expect(model[key] != nil) }
    }

    @Test func removedSlotsAreReusedBeforeAnythingIsEvicted() {
        var cache = ClockCache<Int, Int>(capacity: 3)
        for k in 0..<3 { cache.setValue(k, for: k) }
        cache.removeValue(for: 1)
        cache.setValue(9, for: 9)
        #expect(Set(cache.keys) == [0, 2, 9])
    }

    @Test func capacityZeroKeepsNothing() {
        var cache = ClockCache<Int, Int>(capacity: 0)
        cache.setValue(1, for: 1)
        #expect(cache.count == 0)
        #expect(cache.value(for: 1) == nil)
    }
}
