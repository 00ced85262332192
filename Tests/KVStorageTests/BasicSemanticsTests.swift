import Testing
@testable import KVStorage

@Suite("Storage semantics")
struct BasicSemanticsTests {
    @Test func putGetOverwriteDelete() throws {
        try withTempDirectory { dir in
            let e = try StorageEngine(configuration: config(dir))
            defer { try? e.close() }
            #expect(e.get(b("a")) == nil)
            #expect(try e.set(b("a"), b("1")).applied)
            #expect(e.get(b("a")) == b("1"))
            #expect(try e.set(b("a"), b("two")).applied)
            #expect(e.get(b("a")) == b("two"))
            #expect(e.count == 1)
            #expect(try e.set(b(""), b("empty key")).applied)
            #expect(try e.set(b("empty value"), []).applied)
            #expect(e.get(b("")) == b("empty key"))
            #expect(e.get(b("empty value")) == [])
            #expect(e.count == 3)
            #expect(try e.delete(b("a")).applied)
            #expect(try !e.delete(b("a")).applied)
            #expect(e.get(b("a")) == nil)
            b("empty value").withUnsafeBytes { #expect(e.exists($0)) }
            b("a").withUnsafeBytes { #expect(!e.exists($0)) }
            #expect(e.count == 2)
        }
    }

    @Test func conditionsNXandXX() throws {
        try withTempDirectory { dir in
            let e = try StorageEngine(configuration: config(dir))
            defer { try? e.close() }
            #expect(try !e.set(b("k"), b("x"), condition: .ifPresent).applied)
            #expect(e.get(b("k")) == nil)
            #expect(try e.set(b("k"), b("1"), condition: .ifAbsent).applied)
            let refused = try e.set(b("k"), b("2"), condition: .ifAbsent)
            #expect(!refused.applied)
            #expect(refused.ticket == .none)
            #expect(e.get(b("k")) == b("1"))
            #expect(try e.set(b("k"), b("3"), condition: .ifPresent).applied)
            #expect(e.get(b("k")) == b("3"))
            #expect(e.stats().writes == 2)
        }
    }

    @Test func ttlWithInjectedClock() throws {
        try withTempDirectory { dir in
            let clock = ManualClock()
            let e = try StorageEngine(configuration: config(dir, clock: clock))
            defer { try? e.close() }
            _ = try e.set(b("t"), b("v"), ttl: .expireAt(clock.now + 100))
            _ = try e.set(b("p"), b("v"))
            b("t").withUnsafeBytes { #expect(e.ttlMillis(key: $0) == 100) }
            b("p").withUnsafeBytes { #expect(e.ttlMillis(key: $0) == -1) }
            b("nope").withUnsafeBytes { #expect(e.ttlMillis(key: $0) == nil) }
            // KEEPTTL keeps the expiry, a plain SET clears it.
            _ = try e.set(b("t"), b("v2"), ttl: .keep)
            b("t").withUnsafeBytes { #expect(e.ttlMillis(key: $0) == 100) }
            clock.advance(99)
            #expect(e.get(b("t")) == b("v2"))
            clock.advance(1)
            #expect(e.get(b("t")) == nil)
            b("t").withUnsafeBytes { #expect(!e.exists($0)) }
            #expect(e.count == 1, "the expired key was removed lazily on access")
            // NX succeeds on an expired key.
            _ = try e.set(b("u"), b("old"), ttl: .expireAt(clock.now + 10))
            clock.advance(10)
            #expect(try e.set(b("u"), b("new"), condition: .ifAbsent).applied)
            b("u").withUnsafeBytes { #expect(e.ttlMillis(key: $0) == -1) }
            _ = try e.set(b("p"), b("v"), ttl: .expireAt(clock.now + 5))
            _ = try e.set(b("p"), b("v"))
            b("p").withUnsafeBytes { #expect(e.ttlMillis(key: $0) == -1, "plain SET clears the TTL") }
        }
    }

    @Test func expireSomeSweepsExpiredKeys() throws {
        try withTempDirectory { dir in
            let clock = ManualClock()
            let e = try StorageEngine(configuration: config(dir, clock: clock))
            defer { try? e.close() }
            for i in 0..<200 {
                _ = try e.set(b("k\(i)"), b("v"), ttl: i % 2 == 0 ? .expireAt(clock.now + 50) : .clear)
            }
            #expect(e.expireSome(limit: 1000) == 0)
            clock.advance(50)
            #expect(e.count == 200)
            var removed = 0
            for _ in 0..<100 { removed += e.expireSome(limit: 10) }
            #expect(removed == 100)
            #expect(e.count == 100)
            for i in stride(from: 1, to: 200, by: 2) { #expect(e.get(b("k\(i)")) == b("v")) }
        }
    }

    @Test func flushAllRemovesEverything() throws {
        try withTempDirectory { dir in
            let e = try StorageEngine(configuration: config(dir))
            for i in 0..<50 { _ = try e.set(b("k\(i)"), b("v\(i)")) }
            let ticket = try e.flushAll()
            #expect(ticket.sequence == 51)
            #expect(e.count == 0)
            #expect(e.get(b("k1")) == nil)
            _ = try e.set(b("after"), b("x"))
            try e.close()
            let again = try StorageEngine(configuration: config(dir))
            defer { try? again.close() }
            #expect(again.count == 1)
            #expect(again.get(b("after")) == b("x"))
            #expect(again.get(b("k1")) == nil)
        }
    }

    @Test func firstByteCountsFollowInsertsOverwritesDeletesFlushAndRestart() throws {
        try withTempDirectory { dir in
            let e = try StorageEngine(configuration: config(dir))
            func agree(_ when: String, _ engine: StorageEngine) {
                for byte in [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "z")] {
                    #expect(engine.count(withFirstByte: byte) == engine.count(withPrefix: [byte]), "\(when), byte \(byte)")
                }
            }
            for i in 0..<300 { _ = try e.set(b("a\(i)"), b("v")) }
            for i in 0..<120 { _ = try e.set(b("b\(i)"), b("v")) }
            _ = try e.set(b(""), b("empty key"))
            for i in 0..<100 { _ = try e.set(b("a\(i)"), b("overwritten")) }
            for i in 0..<40 { _ = try e.delete(b("b\(i)")) }
            #expect(e.count(withFirstByte: UInt8(ascii: "a")) == 300 && e.count(withFirstByte: UInt8(ascii: "b")) == 80)
            agree("after writes", e)
            try e.close()
            let again = try StorageEngine(configuration: config(dir))
            agree("after a restart", again)
            #expect(again.count(withFirstByte: UInt8(ascii: "b")) == 80)
            _ = try again.flushAll()
            #expect(again.count(withFirstByte: UInt8(ascii: "a")) == 0)
            _ = try again.set(b("b-new"), b("v"))
            agree("after a flush", again)
            try again.close()
        }
    }

    @Test func oversizedKeyOrValueIsRejectedAndNothingWritten() throws {
        try withTempDirectory { dir in
            var c = config(dir)
            c.maxKeyBytes = 8
            c.maxValueBytes = 16
            let e = try StorageEngine(configuration: c)
            #expect(throws: StorageError(.tooLarge(what: "key", size: 9, limit: 8))) {
                try e.set(Array(repeating: 1, count: 9), b("v"))
            }
            #expect(throws: StorageError(.tooLarge(what: "value", size: 17, limit: 16))) {
                try e.set(b("k"), Array(repeating: 1, count: 17))
            }
            #expect(e.count == 0)
            #expect(e.stats().writes == 0)
            try e.close()
            #expect(try dataFiles(dir).allSatisfy { (try? fileBytes(dir + "/" + $0).count) == 0 })
        }
    }

    @Test func writesAfterCloseThrowClosed() throws {
        try withTempDirectory { dir in
            let e = try StorageEngine(configuration: config(dir))
            _ = try e.set(b("k"), b("v"))
            try e.close()
            try e.close()  // idempotent
            #expect(throws: StorageError(.closed)) { try e.set(b("k"), b("w")) }
            #expect(throws: StorageError(.closed)) { try e.mergeNow() }
        }
    }
}
