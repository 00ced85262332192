import Dispatch
import Foundation
import Synchronization
import Testing
@testable import KVStorage

/// Policy `always`: the commit request (`whenAcknowledgeable`) starts the fsync, not the append, and the
/// active segment is zero-filled ahead of its data so that an fdatasync flushes data, not metadata.
@Suite("Group commit and log preallocation")
struct GroupCommitTests {
    private func alwaysConfig(_ dir: String, unrequestedDelayMillis: Int) -> StorageConfiguration {
        var c = config(dir, fsync: .always)
        c.unrequestedWriteDelayMillis = unrequestedDelayMillis
        return c
    }

    private func waitDurable(_ e: StorageEngine, _ ticket: DurabilityTicket) -> Result<Void, StorageError> {
        let sem = DispatchSemaphore(value: 0)
        let result = Mutex<Result<Void, StorageError>?>(nil)
        e.whenAcknowledgeable(ticket) { r in
            result.withLock { $0 = r }
            sem.signal()
        }
        sem.wait()
        return result.withLock { $0! }
    }

    @Test func theCommitRequestIsTheNewestNotedTicketNotTheLast() {
        var r = CommitRequests()
        #expect(r.due() == nil, "nothing noted, nothing to request")
        // A batch with a write, then one that waits for nothing behind it (the shell holds those too):
        // asking for the last one (.none) would leave the write unrequested.
        let first = r.note(DurabilityTicket(sequence: 10))
        let second = r.note(.none)
        #expect(first, "the first note of a tick schedules the request")
        #expect(!second, "later notes of the same tick do not")
        #expect(r.due() == DurabilityTicket(sequence: 10))
        #expect(r.due() == nil, "already requested")
        // Out of order within a tick: a reply waiting for an older write it read, registered last.
        let newTick = r.note(DurabilityTicket(sequence: 14))
        let sameTick = r.note(DurabilityTicket(sequence: 12))
        #expect(newTick, "a new tick schedules again")
        #expect(!sameTick)
        #expect(r.due() == DurabilityTicket(sequence: 14))
        let afterDue = r.note(DurabilityTicket(sequence: 13))
        #expect(afterDue)
        #expect(r.due() == nil, "13 is covered by the request for 14")
    }

    @Test func oneCommitRequestCoversEveryEarlierAppendWithOneFsync() throws {
        try withTempDirectory { dir in
            let io = FaultyIO()
            let e = try StorageEngine(configuration: alwaysConfig(dir, unrequestedDelayMillis: 60_000),
                                      logger: .init(label: "t"), io: io)
            defer { try? e.close() }
            let syncsBefore = io.state.withLock { $0.syncs }
            var tickets: [DurabilityTicket] = []
            for i in 0..<100 { tickets.append(try e.set(b("k\(i)"), b("value \(i)")).ticket) }
            Thread.sleep(forTimeInterval: 0.1)
            // Nobody asked yet: nothing was synced, nothing may be acknowledged.
            #expect(io.state.withLock { $0.syncs } == syncsBefore)
            #expect(!e.isAcknowledgeable(tickets[0]))
            guard case .success = waitDurable(e, tickets[99]) else { Issue.record("log failed"); return }
            #expect(io.state.withLock { $0.syncs } == syncsBefore + 1, "one fdatasync for the whole group")
            #expect(tickets.allSatisfy { e.isAcknowledgeable($0) })
        }
    }

    @Test func writesNobodyWaitsForAreWrittenAfterTheDelay() throws {
        try withTempDirectory { dir in
            let io = FaultyIO()
            let e = try StorageEngine(configuration: alwaysConfig(dir, unrequestedDelayMillis: 20),
                                      logger: .init(label: "t"), io: io)
            defer { try? e.close() }
            let ticket = try e.set(b("quiet"), b("v")).ticket
            let deadline = Date().addingTimeInterval(10)
            while !e.isAcknowledgeable(ticket) && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
            #expect(e.isAcknowledgeable(ticket), "an idle writer writes unrequested appends after the delay")
            #expect(io.state.withLock { $0.syncs } >= 1)
        }
    }

    @Test func theActiveSegmentIsZeroFilledAheadAndCutBackOnClose() throws {
        try withTempDirectory { dir in
            let e = try StorageEngine(configuration: alwaysConfig(dir, unrequestedDelayMillis: 60_000))
            var last = DurabilityTicket.none
            for i in 0..<50 { last = try e.set(b("key-\(i)"), b(String(repeating: "v", count: 100))).ticket }
            guard case .success = waitDurable(e, last) else { Issue.record("log failed"); return }
            let dataLength = (0..<50).reduce(0) { $0 + RecordFormat.size(keyLength: "key-\($1)".utf8.count, valueLength: 100) }
            let segment = dir + "/" + (try dataFiles(dir).last!)
            let open = try fileBytes(segment)
            #expect(open.count == dataLength + LogWriter.preallocationChunk)
            #expect(open[dataLength...].allSatisfy { $0 == 0 })
            try e.close()
            #expect(try fileBytes(segment).count == dataLength, "closing cuts the zeros off")
            let reopened = try StorageEngine(configuration: alwaysConfig(dir, unrequestedDelayMillis: 60_000))
            defer { try? reopened.close() }
            #expect(reopened.recoveryReport.truncatedTails.isEmpty)
            #expect(reopened.get(b("key-49")) == b(String(repeating: "v", count: 100)))
        }
    }

    @Test func aCrashImageWithPreallocatedZerosRecoversEveryWrite() throws {
        try withTempDirectory { dir in
            let e = try StorageEngine(configuration: alwaysConfig(dir, unrequestedDelayMillis: 60_000))
            var last = DurabilityTicket.none
            for i in 0..<200 { last = try e.set(b("k\(i)"), b("value \(i)")).ticket }
            guard case .success = waitDurable(e, last) else { Issue.record("log failed"); return }
            // What kill -9 leaves: the files as they are now, zeros included (no close, no trim).
            let image = dir + "-image"
            try FileManager.default.copyItem(atPath: dir, toPath: image)
            defer { try? FileManager.default.removeItem(atPath: image) }
            try e.close()
            let segmentName = try dataFiles(image).last!
            let imageLength = try fileBytes(image + "/" + segmentName).count
            let recovered = try StorageEngine(configuration: alwaysConfig(image, unrequestedDelayMillis: 60_000))
            defer { try? recovered.close() }
            let tails = recovered.recoveryReport.truncatedTails
            #expect(tails.count == 1)
            #expect(tails.first?.droppedBytes == LogWriter.preallocationChunk)
            #expect(tails.first.map { $0.offset + $0.droppedBytes } == imageLength)
            #expect(recovered.recoveryReport.corruptRecords.isEmpty)
            for i in 0..<200 { #expect(recovered.get(b("k\(i)")) == b("value \(i)")) }
        }
    }
}
