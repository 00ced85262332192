import Dispatch
import Foundation
import Synchronization
import Testing
@testable import KVStorage

@Suite("Durability")
struct DurabilityTests {
    @Test func groupCommitSharesFsyncsAndAcksOnlyAfterThem() throws {
        try withTempDirectory { dir in
            let io = FaultyIO()
            let e = try StorageEngine(configuration: config(dir, fsync: .always), logger: .init(label: "t"), io: io)
            let threads = 8, perThread = 40
            let violations = Counter()
            let acked = Counter()
            let group = DispatchGroup()
            for t in 0..<threads {
                group.enter()
                Thread {
                    let sem = DispatchSemaphore(value: 0)
                    for i in 0..<perThread {
                        let outcome = try! e.set(b("t\(t)-\(i)"), b("v"))
                        e.whenAcknowledgeable(outcome.ticket) { result in
                            // The ticket must be covered by a completed fdatasync.
                            if case .failure = result { violations.add() }
                            if e.log.lock.withLock({ e.log.durableSequence }) < outcome.ticket.sequence
                                || io.state.withLock({ $0.syncs }) == 0 {
                                violations.add()
                            }
                            acked.add()
                            sem.signal()
                        }
                        sem.wait()
                        if !e.isAcknowledgeable(outcome.ticket) { violations.add() }
                    }
                    group.leave()
                }.start()
            }
            group.wait()
            let stats = e.stats()
            try e.close()
            #expect(acked.count == threads * perThread)
            #expect(violations.count == 0)
            #expect(stats.writes == UInt64(threads * perThread))
            #expect(stats.fsyncs > 0)
            #expect(stats.fsyncs < stats.writes, "concurrent writers share fsyncs")
        }
    }

    @Test func notAcknowledgeableBeforeFsyncUnderAlways() throws {
        try withTempDirectory { dir in
            let io = FaultyIO()
            let e = try StorageEngine(configuration: config(dir, fsync: .always), logger: .init(label: "t"), io: io)
            defer { try? e.close() }
            let outcome = try e.set(b("k"), b("v"))
            let sem = DispatchSemaphore(value: 0)
            e.whenAcknowledgeable(outcome.ticket) { _ in sem.signal() }
            sem.wait()
            #expect(e.isAcknowledgeable(outcome.ticket))
            #expect(io.state.withLock { $0.syncs } >= 1)
            #expect(e.isAcknowledgeable(.none))
        }
    }

    @Test(arguments: [FsyncPolicy.everysec, .no])
    func relaxedPoliciesAcknowledgeAtOnce(policy: FsyncPolicy) throws {
        try withTempDirectory { dir in
            let e = try StorageEngine(configuration: config(dir, fsync: policy))
            defer { try? e.close() }
            let outcome = try e.set(b("k"), b("v"))
            #expect(e.isAcknowledgeable(outcome.ticket))
            let called = Counter()
            e.whenAcknowledgeable(outcome.ticket) { r in if case .success = r { called.add() } }
            #expect(called.count == 1)
        }
    }

    @Test(arguments: [false, true])
    func fatalIOErrorFailsWaitersAndLaterWrites(failWrite: Bool) throws {
        try withTempDirectory { dir in
            let io = FaultyIO()
            let fatalCalls = Counter()
            var c = config(dir, fsync: .always)
            c.onFatalError = { _ in fatalCalls.add() }
            let e = try StorageEngine(configuration: c, logger: .init(label: "t"), io: io)
            let ok = try e.set(b("good"), b("1"))
            let sem = DispatchSemaphore(value: 0)
            e.whenAcknowledgeable(ok.ticket) { _ in sem.signal() }
            sem.wait()

            io.state.withLock { if failWrite { $0.failWrite = true } else { $0.failSync = true } }
            let results = Mutex<[Result<Void, StorageError>]>([])
            for i in 0..<3 {
                // The writer may fail after the first of these; later ones then throw.
                if let outcome = try? e.set(b("bad\(i)"), b("x")) {
                    e.whenAcknowledgeable(outcome.ticket) { r in
                        results.withLock { $0.append(r) }
                        sem.signal()
                    }
                    sem.wait()
                }
            }
            #expect(results.withLock { $0.count } >= 1)
            #expect(results.withLock { $0.allSatisfy { if case .failure = $0 { true } else { false } } })
            #expect(throws: StorageError.self) { try e.set(b("later"), b("y")) }
            #expect(throws: StorageError.self) { try e.delete(b("good")) }
            #expect(fatalCalls.count == 1)
            #expect(e.stats().lastError != nil)
            #expect(throws: StorageError.self) { try e.close() }
        }
    }

    /// The disk fills in the middle of a record: the write fails (never acknowledged), the engine stops taking
    /// writes, and a restart (with room again) truncates the torn record and keeps every acknowledged write.
    @Test func fullDiskMidRecordLosesNothingAcknowledged() throws {
        try withTempDirectory { dir in
            let io = FaultyIO()
            var c = config(dir, fsync: .always)
            c.onFatalError = { _ in }
            let e = try StorageEngine(configuration: c, logger: .init(label: "t"), io: io)
            var acknowledged: [[UInt8]: [UInt8]] = [:]
            func put(_ key: String, _ value: String) -> Bool {
                guard let outcome = try? e.set(b(key), b(value)) else { return false }
                let sem = DispatchSemaphore(value: 0)
                let ok = Mutex(false)
                e.whenAcknowledgeable(outcome.ticket) { r in
                    if case .success = r { ok.withLock { $0 = true } }
                    sem.signal()
                }
                sem.wait()
                return ok.withLock { $0 }
            }
            for i in 0..<50 { if put("k\(i)", String(repeating: "v", count: 100 + i)) { acknowledged[b("k\(i)")] = b(String(repeating: "v", count: 100 + i)) } }
            #expect(acknowledged.count == 50)
            // Room for part of the next record only.
            io.state.withLock { $0.bytesUntilFull = 37 }
            #expect(put("torn", String(repeating: "t", count: 500)) == false, "a write that did not fit is not acknowledged")
            #expect(throws: StorageError.self) { try e.set(b("after"), b("x")) }
            #expect(e.stats().lastError?.description.contains("write") == true)
            _ = try? e.close()

            let reopened = try StorageEngine(configuration: config(dir, fsync: .always), logger: .init(label: "t"))
            defer { try? reopened.close() }
            #expect(reopened.recoveryReport.truncatedTails.count == 1, "the torn record is cut off")
            #expect(reopened.recoveryReport.corruptRecords.isEmpty)
            #expect(snapshot(reopened, keys: Array(acknowledged.keys)) == acknowledged)
            #expect(reopened.get(b("torn")) == nil && reopened.get(b("after")) == nil)
            // And it takes writes again.
            _ = try reopened.set(b("again"), b("1"))
            #expect(reopened.get(b("again")) == b("1"))
        }
    }
}

@Suite("Concurrency")
struct ConcurrencyTests {
    @Test func hammeringThenReopenEqualsMemory() throws {
        try withTempDirectory { dir in
            let keys = (0..<64).map { b("key-\($0)") }
            var c = config(dir, segmentSize: 16 * 1024)
            c.shardCount = 8
            let e = try StorageEngine(configuration: c)
            let group = DispatchGroup()
            for t in 0..<6 {
                group.enter()
                Thread {
                    var rng = SystemRandomNumberGenerator()
                    for i in 0..<3000 {
                        let k = keys[Int.random(in: 0..<keys.count, using: &rng)]
                        switch i % 5 {
                        case 0: _ = try? e.delete(k)
                        case 1: _ = e.get(k)
                        case 2: _ = try? e.set(k, b("t\(t)-\(i)"), condition: .ifAbsent)
                        default: _ = try? e.set(k, b("t\(t)-\(i)-" + String(repeating: "z", count: i % 50)))
                        }
                    }
                    group.leave()
                }.start()
            }
            // A merge in the middle of it all.
            _ = try e.mergeNow()
            group.wait()
            let memory = snapshot(e, keys: keys)
            #expect(e.count == memory.count)
            try e.close()
            let again = try StorageEngine(configuration: c)
            defer { try? again.close() }
            #expect(snapshot(again, keys: keys) == memory)
            #expect(again.count == memory.count)
        }
    }
}
