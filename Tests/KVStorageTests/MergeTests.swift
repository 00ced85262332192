import Foundation
import Testing
@testable import KVStorage

@Suite("Merge")
struct MergeTests {
    /// Fills several 4 KiB segments with three generations of each key, some deletes and TTLs.
    func populate(_ e: StorageEngine, clock: ManualClock) throws -> [[UInt8]: [UInt8]] {
        var expected: [[UInt8]: [UInt8]] = [:]
        for gen in 0..<3 {
            for i in 0..<100 {
                let v = b("gen\(gen)-value-\(i)-" + String(repeating: "x", count: 30))
                _ = try e.set(b("k\(i)"), v, ttl: i % 10 == 0 ? .expireAt(clock.now + 60_000) : .clear)
                expected[b("k\(i)")] = v
            }
        }
        for i in stride(from: 5, to: 100, by: 10) {
            _ = try e.delete(b("k\(i)"))
            expected[b("k\(i)")] = nil
        }
        return expected
    }

    @Test func mergeDropsDeadRecordsAndKeepsLiveData() throws {
        try withTempDirectory { dir in
            let clock = ManualClock()
            let keys = (0..<100).map { b("k\($0)") }
            let e = try StorageEngine(configuration: config(dir, clock: clock, segmentSize: 4096))
            let expected = try populate(e, clock: clock)
            // Roll the active segment so every populated record sits in a closed segment.
            try e.close()
            let e2 = try StorageEngine(configuration: config(dir, clock: clock, segmentSize: 4096))
            let before = e2.stats()
            let segmentsBefore = try dataFiles(dir).count
            let report = try e2.mergeNow()
            let after = e2.stats()
            #expect(report.segmentsMerged == segmentsBefore)
            #expect(report.recordsKept == expected.count)
            #expect(report.recordsDropped == 300 + 10 - expected.count)
            #expect(report.bytesAfter < report.bytesBefore)
            #expect(after.diskBytes < before.diskBytes)
            #expect(after.deadBytes == 0)
            #expect(snapshot(e2, keys: keys) == expected)
            b("k10").withUnsafeBytes { #expect(e2.ttlMillis(key: $0) == 60_000) }
            #expect(try !dataFiles(dir, ext: "hint").isEmpty)
            #expect(e2.stats().merges == 1)

            // Writes after the merge land in the active segment and win.
            _ = try e2.set(b("k1"), b("after-merge"))
            _ = try e2.delete(b("k2"))
            var expectedAfter = expected
            expectedAfter[b("k1")] = b("after-merge")
            expectedAfter[b("k2")] = nil
            try e2.close()

            clock.advance(1000)
            let e3 = try StorageEngine(configuration: config(dir, clock: clock, segmentSize: 4096))
            defer { try? e3.close() }
            #expect(e3.recoveryReport.hintFilesUsed > 0)
            #expect(snapshot(e3, keys: keys) == expectedAfter)
            b("k10").withUnsafeBytes { #expect(e3.ttlMillis(key: $0) == 59_000) }
        }
    }

    @Test func writesDuringMergeAreKept() throws {
        try withTempDirectory { dir in
            let clock = ManualClock()
            let keys = (0..<100).map { b("k\($0)") }
            do {
                let e = try StorageEngine(configuration: config(dir, clock: clock, segmentSize: 4096))
                _ = try populate(e, clock: clock)
                try e.close()
            }
            let e = try StorageEngine(configuration: config(dir, clock: clock, segmentSize: 4096))
            let done = DispatchSemaphore(value: 0)
            Thread {
                for round in 0..<20 {
                    for i in 0..<100 { _ = try? e.set(b("k\(i)"), b("during-\(round)-\(i)")) }
                }
                done.signal()
            }.start()
            for _ in 0..<3 { _ = try e.mergeNow() }
            done.wait()
            _ = try e.mergeNow()
            let expected = Dictionary(uniqueKeysWithValues: (0..<100).map { (b("k\($0)"), b("during-19-\($0)")) })
            #expect(snapshot(e, keys: keys) == expected)
            try e.close()
            let again = try StorageEngine(configuration: config(dir, clock: clock, segmentSize: 4096))
            defer { try? again.close() }
            #expect(snapshot(again, keys: keys) == expected)
        }
    }

    /// A crash after the merged output was published but before (some of) the old segments
    /// were deleted: recovery must resolve duplicates by sequence number.
    @Test(arguments: [false, true])
    func crashMidMergeRecoversBySequence(partialDeletion: Bool) throws {
        try withTempDirectory { dir in
            let clock = ManualClock()
            let keys = (0..<100).map { b("k\($0)") }
            let expected: [[UInt8]: [UInt8]]
            do {
                let e = try StorageEngine(configuration: config(dir, clock: clock, segmentSize: 4096))
                expected = try populate(e, clock: clock)
                try e.close()
            }
            // Keep copies of the pre-merge segments.
            let old = try dataFiles(dir)
            let saved = try old.map { ($0, try fileBytes(dir + "/" + $0)) }
            let e = try StorageEngine(configuration: config(dir, clock: clock, segmentSize: 4096))
            _ = try e.mergeNow()
            try e.close()
            // Put old segments back: all of them, or only the newer half (deletion goes oldest content first).
            for (name, bytes) in saved.suffix(partialDeletion ? saved.count / 2 : saved.count) {
                try writeFileBytes(dir + "/" + name, bytes)
            }
            let again = try StorageEngine(configuration: config(dir, clock: clock, segmentSize: 4096))
            defer { try? again.close() }
            #expect(again.recoveryReport.hintFilesUsed > 0)
            #expect(snapshot(again, keys: keys) == expected)
            #expect(again.count == expected.count)
            // The next merge keeps one copy of each live record, not the duplicates the crash left
            // (it once copied every record whose sequence number matched: duplicates survived forever).
            let report = try again.mergeNow()
            #expect(report.recordsKept == expected.count)
            #expect(again.stats().deadBytes == 0)
            #expect(snapshot(again, keys: keys) == expected)
        }
    }

    @Test func backgroundMergeStartsPastTheThreshold() throws {
        try withTempDirectory { dir in
            var c = config(dir, segmentSize: 4096)
            c.mergeMinDeadBytes = 8192
            c.mergeDeadRatio = 0.5
            let e = try StorageEngine(configuration: c)
            for round in 0..<30 {
                for i in 0..<20 { _ = try e.set(b("k\(i)"), b("round-\(round)-" + String(repeating: "y", count: 40))) }
            }
            // Wait (bounded) for the writer to close segments and the merge thread to run.
            var waited = 0
            while e.stats().merges == 0 && waited < 500 {
                usleep(10_000)
                waited += 1
            }
            #expect(e.stats().merges >= 1)
            try e.close()
            let again = try StorageEngine(configuration: config(dir))
            defer { try? again.close() }
            for i in 0..<20 { #expect(again.get(b("k\(i)")) == b("round-29-" + String(repeating: "y", count: 40))) }
        }
    }

    @Test func damagedHintFileFallsBackToScanning() throws {
        try withTempDirectory { dir in
            let clock = ManualClock()
            let keys = (0..<100).map { b("k\($0)") }
            let expected: [[UInt8]: [UInt8]]
            do {
                let e = try StorageEngine(configuration: config(dir, clock: clock, segmentSize: 4096))
                expected = try populate(e, clock: clock)
                try e.close()
                let m = try StorageEngine(configuration: config(dir, clock: clock, segmentSize: 4096))
                _ = try m.mergeNow()
                try m.close()
            }
            let hints = try dataFiles(dir, ext: "hint")
            #expect(!hints.isEmpty)
            var bytes = try fileBytes(dir + "/" + hints[0])
            bytes[bytes.count / 2] ^= 0xFF
            try writeFileBytes(dir + "/" + hints[0], bytes)
            let e = try StorageEngine(configuration: config(dir, clock: clock, segmentSize: 4096))
            defer { try? e.close() }
            #expect(e.recoveryReport.invalidHintFiles.count == 1)
            #expect(e.recoveryReport.hintFilesUsed == hints.count - 1)
            #expect(snapshot(e, keys: keys) == expected)
        }
    }

    /// Merge output gets ids above the active segment, so file order is not write order:
    /// a delete or overwrite in the (lower-numbered) active segment must still win on reopen.
    @Test func newerRecordsInLowerNumberedSegmentsWin() throws {
        try withTempDirectory { dir in
            do {
                let e = try StorageEngine(configuration: config(dir))
                _ = try e.set(b("deleted"), b("old"))
                _ = try e.set(b("overwritten"), b("old"))
                _ = try e.set(b("kept"), b("old"))
                try e.close()
            }
            do {
                let e = try StorageEngine(configuration: config(dir))  // active segment 2
                let report = try e.mergeNow()                              // output segment 3
                #expect(report.recordsKept == 3)
                _ = try e.delete(b("deleted"))
                _ = try e.set(b("overwritten"), b("new"))
                try e.close()
            }
            #expect(try dataFiles(dir) == ["00000002.log", "00000003.log"])
            let e = try StorageEngine(configuration: config(dir))
            defer { try? e.close() }
            #expect(e.get(b("deleted")) == nil)
            #expect(e.get(b("overwritten")) == b("new"))
            #expect(e.get(b("kept")) == b("old"))
            #expect(e.count == 2)
        }
    }
}
